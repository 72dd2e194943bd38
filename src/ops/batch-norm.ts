import * as tf from '@tensorflow/tfjs-core';

/**
 * Batch norm in training mode over an NHWC tensor: normalises with the batch's own statistics and returns
 * them, so the caller can update its moving averages outside the gradient tape.
 *
 * Backends may provide fused kernels for this (see BATCH_NORM_TRAIN below); every other backend gets the
 * composite of stock ops, whose gradient TF.js derives on its own.
 */
export interface BatchNormTrainResult {
  y: tf.Tensor4D;
  /** Per-channel batch mean, shape [C]. */
  mean: tf.Tensor1D;
  /** Per-channel biased batch variance (divided by N·H·W), shape [C]: the one used to normalise. */
  variance: tf.Tensor1D;
}

/**
 * Kernel contract for a backend-native training batch norm (registered with tf.registerKernel):
 *  - BATCH_NORM_TRAIN: inputs {x: [N,H,W,C], scale: [C], offset: [C]}, attrs {epsilon}; outputs [y, mean, variance].
 *  - BATCH_NORM_TRAIN_GRAD: inputs {dy, x, scale, mean, variance}, attrs {epsilon}; outputs [dx, dScale, dOffset].
 */
export const BATCH_NORM_TRAIN = 'ResnetExpBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'ResnetExpBatchNormTrainGrad';

export function batchNormTrain(
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  epsilon: number,
): BatchNormTrainResult {
  if (hasFusedBatchNorm(tf.getBackend())) return fusedBatchNormTrain(x, scale, offset, epsilon);
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, offset, scale, epsilon);
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

const hasFusedBatchNorm = (backend: string): boolean =>
  tf.getKernel(BATCH_NORM_TRAIN, backend) !== undefined && tf.getKernel(BATCH_NORM_TRAIN_GRAD, backend) !== undefined;

/**
 * The backend's kernels under tf.customGrad. Only y carries a gradient: the statistics are for the moving
 * averages, outside the tape (the gradient ignores any use of them in the loss, unlike the composite).
 */
function fusedBatchNormTrain(x: tf.Tensor4D, scale: tf.Tensor1D, offset: tf.Tensor1D, epsilon: number): BatchNormTrainResult {
  const attrs = { epsilon };
  let stats: tf.Tensor[] = [];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, scaleIn, offsetIn] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x: xIn, scale: scaleIn, offset: offsetIn }, attrs) as tf.Tensor[];
    save([xIn, scaleIn, mean, variance]);
    // customGrad runs this in a tidy and only lets `value` out: keep the statistics past it.
    stats = [tf.keep(mean), tf.keep(variance)];
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [xs, scales, means, variances] = saved;
        return tf.engine().runKernel(
          BATCH_NORM_TRAIN_GRAD,
          { dy: dy as tf.Tensor, x: xs, scale: scales, mean: means, variance: variances },
          attrs,
        ) as tf.Tensor[];
      },
    };
  });
  const y = op(x, scale, offset) as tf.Tensor4D;
  // Hand the statistics to the caller's scope like any op output (same data, no copy), and drop the kept
  // handles, so an enclosing tidy disposes them unless the caller keeps them.
  const [mean, variance] = stats.map((kept) => {
    const tracked = tf.clone(kept);
    kept.dispose();
    return tracked;
  });
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
