import * as tf from '@tensorflow/tfjs-core';

/**
 * Batch norm's moving statistics after one training batch: moving ← (1 − m)·moving + m·batch, the variance's
 * batch value first scaled by `correction` (n/(n−1): the unbiased estimate, as PyTorch and Caffe keep). As TF.js
 * ops that is seven kernel calls per BN layer; a backend may do it in one.
 *
 * Kernel contract: MOVING_AVERAGES, inputs {movingMean, movingVariance, mean, variance} of one shape [C], attrs
 * {momentum, correction}; outputs [movingMean', movingVariance']. Each step rounds to float32 as the separate ops
 * do, so the result is the composite's to the bit.
 */
export const MOVING_AVERAGES = 'ResnetExpMovingAverages';

export interface MovingAveragesAttrs {
  momentum: number;
  correction: number;
}

export function movingAverages(
  movingMean: tf.Tensor,
  movingVariance: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  a: MovingAveragesAttrs,
): { mean: tf.Tensor; variance: tf.Tensor } {
  if (tf.getKernel(MOVING_AVERAGES, tf.getBackend()) !== undefined) {
    const inputs = { movingMean, movingVariance, mean, variance };
    const [m, v] = tf.engine().runKernel(MOVING_AVERAGES, inputs, a as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { mean: m, variance: v };
  }
  const unbiased = tf.mul(variance, a.correction);
  return {
    mean: tf.add(tf.mul(movingMean, 1 - a.momentum), tf.mul(mean, a.momentum)),
    variance: tf.add(tf.mul(movingVariance, 1 - a.momentum), tf.mul(unbiased, a.momentum)),
  };
}
