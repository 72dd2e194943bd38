import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from './context.js';
import { basicLayers, postActivationF, preActivation, preActivationF } from './residual-function.js';
import { shapeChanges, shortcut, type ShortcutOption } from './shortcuts.js';

export interface BlockOptions {
  filters: number;
  /** 2 in the first block of stages 2 and 3, which halves the feature map and doubles the filters. */
  stride: 1 | 2;
  shortcut: ShortcutOption;
}

/** A block is a function of its input: y = block(x). */
export type Block = (ctx: ForwardContext, name: string, x: tf.Tensor4D, o: BlockOptions) => tf.Tensor4D;

const s = (ctx: ForwardContext, name: string, x: tf.Tensor4D, o: BlockOptions): tf.Tensor4D =>
  shortcut(ctx, `${name}.shortcut`, x, o.filters, o.stride, o.shortcut);

/** Plain: y = ReLU(F(x)). The same layers as the residual block, no shortcut. */
export const plainBlock: Block = (ctx, name, x, o) => postActivationF(ctx, name, x, basicLayers(o.filters, o.stride), { relu: true });

/**
 * Residual (He et al. 2015, Fig. 2): y = ReLU(F(x) + s(x)), the addition before the final ReLU (both handed to F's
 * last batch norm, which fuses them while training).
 */
export const residualBlock: Block = (ctx, name, x, o) =>
  postActivationF(ctx, name, x, basicLayers(o.filters, o.stride), { residual: () => s(ctx, name, x, o), relu: true });

/**
 * Full pre-activation (He et al. 2016, Fig. 4e): y = F(x) + s(x) with F = conv(ReLU(BN(conv(ReLU(BN(x)))))),
 * nothing after the addition, so the identity path is clean. Where the shape changes, the shortcut takes the
 * pre-activated input, as the authors' code does for its projection shortcuts.
 */
export const preactBlock: Block = (ctx, name, x, o) => {
  const preactivated = preActivation(ctx, `${name}.bn1`, x);
  const f = preActivationF(ctx, name, preactivated, basicLayers(o.filters, o.stride));
  return tf.add<tf.Tensor4D>(f, s(ctx, name, shapeChanges(x, o.filters, o.stride) ? preactivated : x, o));
};
