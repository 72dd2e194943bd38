import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernel contract for a backend-native ReLU gradient: RELU_GRAD, inputs {dy, x}, output dx = x > 0 ? dy : 0.
 * TF.js differentiates Relu as mul(dy, step(x)): two passes over the activation and a temporary; a native
 * kernel is one pass. Backends that lack it get TF.js's own formula.
 */
export const RELU_GRAD = 'ResnetExpReluGrad';

/**
 * Gradients are registered per kernel name for every backend at once, so Relu's is replaced by one that takes
 * the fused RELU_GRAD path on backends registering it and computes TF.js's own mul(dy, step(x)) elsewhere.
 */
const reluGradient: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    if (tf.getKernel(RELU_GRAD, tf.getBackend()) === undefined) return { x: () => tf.mul(g, tf.cast(tf.step(x), 'float32')) };
    return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: g, x }) as tf.Tensor };
  },
};

/** RELU_GRAD is linear in dy, so a second derivative flows only through dy (and is zero wrt x). */
const reluGradGradient: tf.GradConfig = {
  kernelName: RELU_GRAD,
  inputsToSave: ['x'],
  gradFunc: (ddx, saved) => {
    const [x] = saved;
    return {
      dy: () => tf.engine().runKernel(RELU_GRAD, { dy: ddx as tf.Tensor, x }) as tf.Tensor,
      x: () => tf.zerosLike(x),
    };
  },
};

/** Idempotent; also restores the fused gradient if TF.js's gradients were registered since. */
export function installReluGradient(): void {
  if (tf.getGradient(tf.Relu) !== reluGradient) tf.registerGradient(reluGradient);
  if (tf.getGradient(RELU_GRAD) !== reluGradGradient) tf.registerGradient(reluGradGradient);
}
