import * as tf from '@tensorflow/tfjs-core';
import '../ops/gradients.js';
import type { ForwardContext } from './context.js';
import { batchNormActInference, batchNormActTrain } from '../ops/batch-norm-act.js';

const BN_EPSILON = 1e-5;

/** He et al. 2015 (ref. [13] of the ResNet paper): N(0, 2/fan_in), fan_in = k·k·c_in. */
const heNormal = (shape: number[], fanIn: number) => (seed: number) =>
  tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed);

export interface ConvOptions {
  filters: number;
  /** 7 only for the imagenet family's stem. */
  kernel: 1 | 3 | 7;
  stride: 1 | 2;
  /**
   * A conv on a block's shortcut path (a projection, a gate): not one of the weighted layers the depth counts,
   * and without a response in the sense of He et al. 2015, Fig. 7.
   */
  shortcut?: boolean;
}

/** A bias-free convolution ('same' padding): a batch norm next to every conv makes a bias redundant. */
export function conv(ctx: ForwardContext, name: string, x: tf.Tensor4D, o: ConvOptions): tf.Tensor4D {
  const inChannels = x.shape[3];
  const fanIn = o.kernel * o.kernel * inChannels;
  const kernel = ctx.params.getOrCreate(
    `${name}.kernel`,
    'kernel',
    heNormal([o.kernel, o.kernel, inChannels, o.filters], fanIn),
  ) as tf.Variable<tf.Rank.R4>;
  const y = tf.conv2d(x, kernel, o.stride, 'same');
  ctx.costs?.push({
    layer: name,
    kind: o.shortcut ? 'shortcut-conv' : 'conv',
    params: fanIn * o.filters,
    macs: y.shape[1] * y.shape[2] * fanIn * o.filters,
  });
  if (!o.shortcut) ctx.responses?.push({ layer: name, conv: y });
  return y;
}

/** A learned per-channel bias, starting at `initial`. */
export function bias(ctx: ForwardContext, name: string, x: tf.Tensor4D, initial: number): tf.Tensor4D {
  const channels = x.shape[3];
  const b = ctx.params.getOrCreate(`${name}.bias`, 'bias', () => tf.fill([channels], initial)) as tf.Variable<tf.Rank.R1>;
  ctx.costs?.push({ layer: name, kind: 'bias', params: channels, macs: 0 });
  return tf.add(x, b);
}

export interface BatchNormOptions {
  /**
   * Whether this BN's output is the response of the conv right before it (He et al. 2015, Fig. 7); false for
   * a pre-activation BN, which belongs to the next conv.
   */
  response?: boolean;
  /** Added to the normalised output (a residual block's shortcut); made after the BN's own parameters. */
  residual?: () => tf.Tensor4D;
  /** ReLU of the (summed) output. */
  relu?: boolean;
}

/**
 * Batch norm: batch statistics while training (recorded for the moving averages), moving statistics at evaluation;
 * then `o.residual` added and ReLU, when asked. ReLU(BN(x) + r) is one kernel while training on backends that have
 * it (src/ops/batch-norm-act.ts: onednn), the separate ops elsewhere and at evaluation, where the BN's own output
 * may be recorded as a response.
 */
export function batchNorm(ctx: ForwardContext, name: string, x: tf.Tensor4D, o: BatchNormOptions = {}): tf.Tensor4D {
  const respond = (y: tf.Tensor4D): tf.Tensor4D => (o.response === false ? y : recordResponse(ctx, x, y));
  const channels = x.shape[3];
  const scale = ctx.params.getOrCreate(`${name}.scale`, 'bn-scale', () => tf.ones([channels])) as tf.Variable<tf.Rank.R1>;
  const shift = ctx.params.getOrCreate(`${name}.shift`, 'bn-shift', () => tf.zeros([channels])) as tf.Variable<tf.Rank.R1>;
  const movingMean = ctx.params.getOrCreate(`${name}.movingMean`, 'bn-moving', () => tf.zeros([channels]));
  const movingVariance = ctx.params.getOrCreate(`${name}.movingVariance`, 'bn-moving', () => tf.ones([channels]));
  ctx.costs?.push({ layer: name, kind: 'bn', params: 2 * channels, macs: 0 });
  if (ctx.mode === 'eval') {
    const stats = [x, movingMean as tf.Tensor1D, movingVariance as tf.Tensor1D, scale, shift] as const;
    // A recorded response is the BN's own output, so the ops stay separate when responses are recorded.
    if (!ctx.responses) return batchNormActInference(...stats, BN_EPSILON, { relu: o.relu ?? false, residual: o.residual?.() });
    const y = respond(tf.batchNorm4d(x, movingMean as tf.Tensor1D, movingVariance as tf.Tensor1D, shift, scale, BN_EPSILON));
    const summed = o.residual ? tf.add<tf.Tensor4D>(y, o.residual()) : y;
    return o.relu ? tf.relu(summed) : summed;
  }
  const residual = o.residual?.();
  const { y, mean, variance } = batchNormActTrain(x, scale, shift, BN_EPSILON, { relu: o.relu ?? false, residual });
  ctx.batchStats.push({
    layer: name,
    mean: tf.keep(mean),
    variance: tf.keep(variance),
    count: x.shape[0] * x.shape[1] * x.shape[2],
  });
  // Responses are recorded at evaluation only (diagnostics); a fused training output is not the BN's own.
  return o.residual || o.relu ? y : respond(y);
}

/** A 3x3 layer's response is taken after the batch norm applied right to its output (He et al. 2015, Fig. 7). */
function recordResponse(ctx: ForwardContext, x: tf.Tensor4D, y: tf.Tensor4D): tf.Tensor4D {
  const last = ctx.responses?.at(-1);
  if (last?.conv === x) last.bn ??= y;
  return y;
}

/** The fully connected classifier, with bias. */
export function dense(ctx: ForwardContext, name: string, x: tf.Tensor2D, units: number): tf.Tensor2D {
  const inputs = x.shape[1];
  const kernel = ctx.params.getOrCreate(`${name}.kernel`, 'kernel', heNormal([inputs, units], inputs)) as tf.Variable<tf.Rank.R2>;
  const bias = ctx.params.getOrCreate(`${name}.bias`, 'bias', () => tf.zeros([units])) as tf.Variable<tf.Rank.R1>;
  ctx.costs?.push({ layer: name, kind: 'dense', params: inputs * units + units, macs: inputs * units });
  return tf.add(tf.matMul(x, kernel), bias);
}

/** The imagenet family's 3x3 max-pool of stride 2 after the stem (He et al. 2015, Table 1). */
export const maxPool = (x: tf.Tensor4D): tf.Tensor4D => tf.maxPool(x, 3, 2, 'same');
