import * as tf from '@tensorflow/tfjs-core';
import type { Unit } from './blocks.js';
import type { ForwardContext } from './context.js';
import { batchNorm, dense } from './layers.js';

/** The activation the first unit expects of its input: pre-activation units start from the raw conv output. */
export function afterStem(ctx: ForwardContext, stem: tf.Tensor4D, unit: Unit): tf.Tensor4D {
  if (unit.afterStem === 'none') return stem;
  return batchNorm(ctx, 'stem.bn', stem, { relu: unit.afterStem === 'bn-relu' });
}

/** The activation the last pre-activation unit's output gets from no later unit (2016, appendix). */
export function beforePool(ctx: ForwardContext, h: tf.Tensor4D, unit: Unit): tf.Tensor4D {
  if (unit.beforePool === 'none') return h;
  return unit.beforePool === 'bn-relu' ? batchNorm(ctx, 'final.bn', h, { relu: true }) : tf.relu(h);
}

/** Global average pooling and the fully connected classifier. */
export const classifier = (ctx: ForwardContext, h: tf.Tensor4D, classes: number): tf.Tensor2D =>
  dense(ctx, 'classifier', tf.mean(h, [1, 2]) as tf.Tensor2D, classes);
