import type * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from './context.js';
import { zeroPadChannels } from '../ops/zero-pad-channels.js';
import { batchNorm, conv } from './layers.js';

export type ShortcutOption = 'A' | 'B';

/** Whether a block whose output has `filters` channels at `stride` changes the shape of its input x. */
export const shapeChanges = (x: tf.Tensor4D, filters: number, stride: 1 | 2): boolean => stride !== 1 || x.shape[3] !== filters;

/**
 * s(x), the shortcut of a block whose output has `filters` channels at `stride` (He et al. 2015, section 3.3):
 * the identity where shapes match; where they change, option A subsamples and pads the new channels with
 * zeros (no parameters), option B is a 1x1 strided projection with batch norm.
 */
export function shortcut(
  ctx: ForwardContext,
  name: string,
  x: tf.Tensor4D,
  filters: number,
  stride: 1 | 2,
  option: ShortcutOption,
): tf.Tensor4D {
  if (!shapeChanges(x, filters, stride)) return x;
  if (option === 'B') return batchNorm(ctx, `${name}.bn`, conv(ctx, `${name}.conv`, x, { filters, kernel: 1, stride }));
  return zeroPadChannels(x, filters, stride);
}
