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
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = tf.batchNorm4d(x, mean, variance, offset, scale, epsilon);
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
