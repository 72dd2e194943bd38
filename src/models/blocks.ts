import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from './context.js';
import { batchNorm, conv, type BatchNormOptions } from './layers.js';
import { shortcut, type ShortcutOption } from './shortcuts.js';

export interface BlockOptions {
  filters: number;
  /** 2 in the first block of stages 2 and 3, which halves the feature map and doubles the filters. */
  stride: 1 | 2;
  shortcut: ShortcutOption;
}

/** A block is a function of its input: y = block(x). */
export type Block = (ctx: ForwardContext, name: string, x: tf.Tensor4D, o: BlockOptions) => tf.Tensor4D;

/**
 * F(x): two 3x3 convolutions, BN after each, ReLU between (He et al. 2015, Fig. 2 without the shortcut), and
 * `after` (the block's addition and final ReLU) applied to the last BN's output in the same fused kernel.
 */
function residualFunction(ctx: ForwardContext, name: string, x: tf.Tensor4D, o: BlockOptions, after: BatchNormOptions): tf.Tensor4D {
  const h = batchNorm(ctx, `${name}.bn1`, conv(ctx, `${name}.conv1`, x, { filters: o.filters, kernel: 3, stride: o.stride }), { relu: true });
  return batchNorm(ctx, `${name}.bn2`, conv(ctx, `${name}.conv2`, h, { filters: o.filters, kernel: 3, stride: 1 }), after);
}

/** Plain: y = ReLU(F(x)). The same layers as the residual block, no shortcut. */
export const plainBlock: Block = (ctx, name, x, o) => residualFunction(ctx, name, x, o, { relu: true });

/** Residual (2015): y = ReLU(F(x) + shortcut(x)), the addition before the final ReLU. */
export const residualBlock: Block = (ctx, name, x, o) =>
  residualFunction(ctx, name, x, o, { residual: () => shortcut(ctx, `${name}.shortcut`, x, o.filters, o.stride, o.shortcut), relu: true });

/**
 * Pre-activation (He et al. 2016): y = x + F(x) with F = conv(ReLU(BN(conv(ReLU(BN(x)))))), nothing after the
 * addition, so the identity path is clean. Where the shape changes, the shortcut takes the pre-activated input,
 * as the authors' code does for its projection shortcuts.
 */
export const preactBlock: Block = (ctx, name, x, o) => {
  const preactivated = batchNorm(ctx, `${name}.bn1`, x, { relu: true });
  const h = batchNorm(ctx, `${name}.bn2`, conv(ctx, `${name}.conv1`, preactivated, { filters: o.filters, kernel: 3, stride: o.stride }), { relu: true });
  const f = conv(ctx, `${name}.conv2`, h, { filters: o.filters, kernel: 3, stride: 1 });
  const shapeChanges = o.stride !== 1 || x.shape[3] !== o.filters;
  return tf.add<tf.Tensor4D>(f, shortcut(ctx, `${name}.shortcut`, shapeChanges ? preactivated : x, o.filters, o.stride, o.shortcut));
};
