import type * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from './context.js';
import { batchNorm, conv, type BatchNormOptions, type ConvOptions } from './layers.js';

/**
 * F(x), the residual function of a block: its weight layers, each a bias-free conv with a batch norm. The
 * papers vary only where the BN and ReLU sit around each conv; the layers and their names (conv1, bn1, …) stay,
 * so twins of different orders start from the same kernels.
 */

/** The weight layers of the basic block: two 3x3 convs, the first one strided (He et al. 2015, Fig. 5 left). */
export const basicLayers = (filters: number, stride: 1 | 2): ConvOptions[] => [
  { filters, kernel: 3, stride },
  { filters, kernel: 3, stride: 1 },
];

/**
 * Post-activation (2015): conv → BN for every layer, ReLU between layers. The last layer's BN output is left
 * as it is: what follows the addition is the block's business, which it hands over as `after` (the shortcut to
 * add, the ReLU) so that the last BN does it in the same fused kernel while training.
 */
export function postActivationF(
  ctx: ForwardContext,
  name: string,
  x: tf.Tensor4D,
  layers: readonly ConvOptions[],
  after: BatchNormOptions = {},
): tf.Tensor4D {
  return layers.reduce(
    (h, layer, i) =>
      batchNorm(ctx, `${name}.bn${i + 1}`, conv(ctx, `${name}.conv${i + 1}`, h, layer), i < layers.length - 1 ? { relu: true } : after),
    x,
  );
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
