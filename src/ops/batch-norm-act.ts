import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain, type BatchNormTrainResult } from './batch-norm.js';

/**
 * Training batch norm fused with what follows it in a ResNet block: y = act(BN(x) [+ residual]), act ReLU or
 * nothing. The stem and every block's first layer are ReLU(BN(conv)); a residual block ends in
 * ReLU(BN(conv) + shortcut). One kernel reads x once for the statistics and once to write y, where the separate
 * ops write and re-read BN's output, the sum and ReLU's output; its gradient is one kernel too.
 *
 * Kernel contract (registered with tf.registerKernel by backends that have it):
 *  - BATCH_NORM_ACT: inputs {x: [N,H,W,C], scale: [C], offset: [C], residual?: [N,H,W,C]}, attrs {epsilon, relu,
 *    residual (whether that input is there)}; outputs [y, mean, variance] (variance biased, divided by N·H·W).
 *  - BATCH_NORM_ACT_GRAD: inputs {dy, x, y, scale, mean, variance}, same attrs; outputs [dx, dScale, dOffset] and,
 *    with a residual, dResidual (the gradient reaching the addition). y's sign is the ReLU's mask.
 * Backends without it get the composite: batchNormTrain, then tf.add and tf.relu.
 */
export const BATCH_NORM_ACT = 'ResnetExpBatchNormAct';
export const BATCH_NORM_ACT_GRAD = 'ResnetExpBatchNormActGrad';
/**
 * Evaluation: inputs {x, mean, variance, scale, offset, residual?} (the moving statistics), the same attrs; output
 * y = act(BN(x) [+ residual]) with the bits of tf.batchNorm, tf.add and tf.relu run one after another (no
 * gradient: evaluation only).
 */
export const BATCH_NORM_ACT_INFERENCE = 'ResnetExpBatchNormActInference';

export interface BatchNormActAttrs {
  epsilon: number;
  relu: boolean;
  residual: boolean;
}

export interface BatchNormActOptions {
  relu: boolean;
  /** Added to the normalised x before the activation (a residual block's shortcut). */
  residual?: tf.Tensor4D;
}

export function batchNormActTrain(
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  epsilon: number,
  o: BatchNormActOptions,
): BatchNormTrainResult {
  if (hasFused(tf.getBackend())) {
    installGradient();
    const attrs: BatchNormActAttrs = { epsilon, relu: o.relu, residual: o.residual !== undefined };
    const inputs: tf.NamedTensorMap = o.residual ? { x, scale, offset, residual: o.residual } : { x, scale, offset };
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_ACT, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { y: y as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const bn = batchNormTrain(x, scale, offset, epsilon);
  let y = bn.y;
  if (o.residual) y = tf.add(y, o.residual);
  if (o.relu) y = tf.relu(y);
  return { y, mean: bn.mean, variance: bn.variance };
}

/**
 * Evaluation batch norm with the moving statistics, fused like batchNormActTrain where the backend has the kernel
 * (one pass over activations that evaluation batches make larger than the cache), else tf.batchNorm, tf.add, tf.relu.
 */
export function batchNormActInference(
  x: tf.Tensor4D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  epsilon: number,
  o: BatchNormActOptions,
): tf.Tensor4D {
  if ((o.relu || o.residual) && tf.getKernel(BATCH_NORM_ACT_INFERENCE, tf.getBackend()) !== undefined) {
    const attrs: BatchNormActAttrs = { epsilon, relu: o.relu, residual: o.residual !== undefined };
    const inputs: tf.NamedTensorMap = { x, mean, variance, scale, offset };
    if (o.residual) inputs.residual = o.residual;
    return tf.engine().runKernel(BATCH_NORM_ACT_INFERENCE, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  let y = tf.batchNorm4d(x, mean, variance, offset, scale, epsilon);
  if (o.residual) y = tf.add(y, o.residual);
  return o.relu ? tf.relu(y) : y;
}

const hasFused = (backend: string): boolean =>
  tf.getKernel(BATCH_NORM_ACT, backend) !== undefined && tf.getKernel(BATCH_NORM_ACT_GRAD, backend) !== undefined;

/**
 * Only y carries a gradient: the statistics are for the moving averages, outside the tape (TF.js hands zeros for
 * them here, which the gradient ignores).
 */
const gradient: tf.GradConfig = {
  kernelName: BATCH_NORM_ACT,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [true, true, true],
  gradFunc: (dy, saved, attrs) => {
    const [x, scale, y, mean, variance] = saved;
    const a = attrs as unknown as BatchNormActAttrs;
    const dys = Array.isArray(dy) ? dy : [dy];
    // Computed here rather than in the closures: TF.js calls each closure in its own tidy, which would dispose
    // the other outputs of the one kernel call.
    const [dx, dScale, dOffset, dResidual] = tf.engine().runKernel(
      BATCH_NORM_ACT_GRAD,
      { dy: dys[0], x, y, scale, mean, variance },
      a as unknown as tf.NamedAttrMap,
    ) as tf.Tensor[];
    const grads: Record<string, () => tf.Tensor> = { x: () => dx, scale: () => dScale, offset: () => dOffset };
    if (a.residual) grads.residual = () => dResidual;
    return grads;
  },
};

/** Once, lazily: registering a gradient is global and logs a warning when repeated. */
function installGradient(): void {
  if (tf.getGradient(BATCH_NORM_ACT) !== gradient) tf.registerGradient(gradient);
}
