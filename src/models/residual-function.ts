import type * as tf from '@tensorflow/tfjs-core';
import type { BlockKind } from '../config/schema.js';
import type { ForwardContext } from './context.js';
import { batchNorm, conv, type BatchNormOptions, type ConvOptions } from './layers.js';

/**
 * F(x), the residual function of a block: its weight layers, each a bias-free conv with a batch norm. The
 * papers vary only where the BN and ReLU sit around each conv; the layers and their names (conv1, bn1, …) stay,
 * so twins of different orders start from the same kernels.
 */

/** A bottleneck block's output has 4× its width (He et al. 2015, Fig. 5 right; 2016, appendix). */
export const BOTTLENECK_EXPANSION = 4;

/** Channels out of a block of `filters` filters. */
export const blockOutputs = (kind: BlockKind, filters: number): number => (kind === 'bottleneck' ? BOTTLENECK_EXPANSION * filters : filters);

/**
 * The weight layers of a block (He et al. 2015, Fig. 5): basic, two 3x3 convs, the first strided; bottleneck,
 * a 1x1 conv reducing to `filters`, a 3x3 conv, a 1x1 conv expanding to 4·`filters`, with the stride on the
 * first 1x1 conv as in the paper and the authors' code (torchvision later moved it to the 3x3).
 */
export function weightLayers(kind: BlockKind, filters: number, stride: 1 | 2): ConvOptions[] {
  if (kind === 'bottleneck') {
    return [
      { filters, kernel: 1, stride },
      { filters, kernel: 3, stride: 1 },
      { filters: BOTTLENECK_EXPANSION * filters, kernel: 1, stride: 1 },
    ];
  }
  return [
    { filters, kernel: 3, stride },
    { filters, kernel: 3, stride: 1 },
  ];
}

/**
 * Post-activation (2015): conv → BN for every layer, ReLU between layers. The last layer's BN output is left
 * as it is: what follows the addition is the block's business, which it may hand over as `after` (the shortcut
 * to add, the ReLU) so that the last BN does them in the same fused kernel while training. Without `lastBn` the
 * last conv has no BN (the 2016 paper's Fig. 4b moves it after the addition), and `after` must not be given.
 */
export function postActivationF(
  ctx: ForwardContext,
  name: string,
  x: tf.Tensor4D,
  layers: readonly ConvOptions[],
  o: { lastBn?: boolean; after?: BatchNormOptions } = {},
): tf.Tensor4D {
  return layers.reduce((h, layer, i) => {
    const last = i === layers.length - 1;
    const c = conv(ctx, `${name}.conv${i + 1}`, h, layer);
    if (last && o.lastBn === false) return c;
    return batchNorm(ctx, `${name}.bn${i + 1}`, c, last ? (o.after ?? {}) : { relu: true });
  }, x);
}

/**
 * Full pre-activation (2016, Fig. 4e): BN → ReLU → conv for every layer. The first BN-ReLU (bn1) is the caller's,
 * `preactivated` = ReLU(BN(x)), because the shortcut shares it where the shape changes.
 */
export function preActivationF(ctx: ForwardContext, name: string, preactivated: tf.Tensor4D, layers: readonly ConvOptions[]): tf.Tensor4D {
  return layers.reduce(
    (h, layer, i) => conv(ctx, `${name}.conv${i + 1}`, i === 0 ? h : preActivation(ctx, `${name}.bn${i + 1}`, h), layer),
    preactivated,
  );
}

/** ReLU(BN(x)): the activation a pre-activation layer applies to its input. */
export const preActivation = (ctx: ForwardContext, bnName: string, x: tf.Tensor4D): tf.Tensor4D =>
  batchNorm(ctx, bnName, x, { response: false, relu: true });
