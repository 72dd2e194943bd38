import type * as tf from '@tensorflow/tfjs-core';
import type { ShortcutOption } from '../config/schema.js';
import type { ForwardContext } from './context.js';
import { zeroPadChannels } from '../ops/zero-pad-channels.js';
import { batchNorm, conv } from './layers.js';

export type { ShortcutOption };

/** Whether a block whose output has `filters` channels at `stride` changes the shape of its input x. */
export const shapeChanges = (x: tf.Tensor4D, filters: number, stride: 1 | 2): boolean => stride !== 1 || x.shape[3] !== filters;

/**
 * s(x), the shortcut of a block whose output has `filters` channels at `stride` (He et al. 2015, section 3.3 and
 * Table 3): the identity where shapes match, except with option C; where they change, option A subsamples and
 * pads the new channels with zeros (no parameters), B projects with a strided 1x1 conv and BN, `conv3x3-bn`
 * with a strided 3x3 conv and BN (the downsampling of the note this project started from). C projects on every
 * block, identity-shaped or not.
 */
export function shortcut(
  ctx: ForwardContext,
  name: string,
  x: tf.Tensor4D,
  filters: number,
  stride: 1 | 2,
  option: ShortcutOption,
): tf.Tensor4D {
  if (option === 'C') return projection(ctx, name, x, { filters, kernel: 1, stride });
  if (!shapeChanges(x, filters, stride)) return x;
  if (option === 'B') return projection(ctx, name, x, { filters, kernel: 1, stride });
  if (option === 'conv3x3-bn') return projection(ctx, name, x, { filters, kernel: 3, stride });
  return zeroPadChannels(x, filters, stride);
}

const projection = (ctx: ForwardContext, name: string, x: tf.Tensor4D, o: { filters: number; kernel: 1 | 3; stride: 1 | 2 }): tf.Tensor4D =>
  batchNorm(ctx, `${name}.bn`, conv(ctx, `${name}.conv`, x, { ...o, shortcut: true }));
