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

/**
 * Every BN layer's moving statistics in one kernel call (a CIFAR net has up to ~110 BN layers of 8-64 channels:
 * per-call bookkeeping outweighs the arithmetic).
 *
 * Kernel contract: MOVING_AVERAGES_MULTI, inputs {movingMean0, movingVariance0, mean0, variance0, movingMean1, …}
 * (each quadruple of one shape), attrs {momentum, corrections} (one per quadruple); outputs [movingMean0',
 * movingVariance0', movingMean1', …], each pair MOVING_AVERAGES's to the bit. Backends without it run
 * MOVING_AVERAGES (or its composite) per layer.
 */
export const MOVING_AVERAGES_MULTI = 'ResnetExpMovingAveragesMulti';

export interface MovingAveragesMultiAttrs {
  momentum: number;
  corrections: number[];
}

export interface MovingAveragesItem {
  movingMean: tf.Tensor;
  movingVariance: tf.Tensor;
  mean: tf.Tensor;
  variance: tf.Tensor;
  correction: number;
}

export function movingAveragesMany(items: MovingAveragesItem[], momentum: number): { mean: tf.Tensor; variance: tf.Tensor }[] {
  if (items.length === 0) return [];
  if (tf.getKernel(MOVING_AVERAGES_MULTI, tf.getBackend()) === undefined) {
    return items.map((it) => movingAverages(it.movingMean, it.movingVariance, it.mean, it.variance, { momentum, correction: it.correction }));
  }
  const inputs: tf.NamedTensorMap = {};
  items.forEach((it, i) => {
    inputs[`movingMean${i}`] = it.movingMean;
    inputs[`movingVariance${i}`] = it.movingVariance;
    inputs[`mean${i}`] = it.mean;
    inputs[`variance${i}`] = it.variance;
  });
  const attrs: MovingAveragesMultiAttrs = { momentum, corrections: items.map((it) => it.correction) };
  const out = tf.engine().runKernel(MOVING_AVERAGES_MULTI, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return items.map((_, i) => ({ mean: out[2 * i], variance: out[2 * i + 1] }));
}
