import type * as tf from '@tensorflow/tfjs-core';
import { UNITS } from './blocks.js';
import type { ForwardContext } from './context.js';
import { conv, maxPool } from './layers.js';
import { stageBlocks, type NetworkSpec } from './spec.js';
import { stage, stageStrides } from './stage.js';
import { afterStem, beforePool, classifier } from './stem-and-head.js';

/**
 * The ImageNet networks of He et al. 2015, Table 1, for any input size and class count: a 7x7 conv of stride 2,
 * a 3x3 max-pool of stride 2, four stages of blocks with 64, 128, 256 and 512 filters (`width` = 64; bottleneck
 * outputs 4×), the first block of stages 2–4 of stride 2, global average pooling and the classifier.
 *
 *     layers   block        blocks per stage   parameters (option B)   multiply-adds at 224x224 (Table 1)
 *         18   basic        2, 2, 2, 2                 11,689,512      1.81G (1.8)
 *         34   basic        3, 4, 6, 3                 21,797,672      3.66G (3.6)
 *         50   bottleneck   3, 4, 6, 3                 25,557,032      3.86G (3.8)
 *        101   bottleneck   3, 4, 23, 3                44,549,160      7.57G (7.6)
 *        152   bottleneck   3, 8, 36, 3                60,192,808     11.28G (11.3)
 *
 * at 224x224 with 1000 classes: torchvision's counts exactly. A bottleneck's stride is on its first 1x1 conv, as
 * in the paper; torchvision's later placement on the 3x3 (ResNet v1.5) has the same parameters and about 8% more
 * multiply-adds. Plain twins have the same layers without shortcuts (and so without option B's projections).
 */
export function imagenetNet(spec: NetworkSpec, ctx: ForwardContext, x: tf.Tensor4D): tf.Tensor2D {
  const unit = UNITS[spec.variant];
  const w = spec.width;
  const common = { block: unit.block, kind: spec.block, shortcut: spec.shortcut, ablation: spec.ablation };
  let h = maxPool(afterStem(ctx, conv(ctx, 'stem.conv', x, { filters: w, kernel: 7, stride: 2 }), unit));
  stageBlocks(spec).forEach((n, i) => {
    h = stage(ctx, `stage${i + 1}`, h, { ...common, filters: w * 2 ** i, strides: stageStrides(i === 0 ? 1 : 2, n) });
  });
  return classifier(ctx, beforePool(ctx, h, unit), spec.classes ?? 1000);
}
