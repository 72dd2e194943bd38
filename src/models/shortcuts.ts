import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from './context.js';
import { batchNorm, conv } from './layers.js';

export type ShortcutOption = 'A' | 'B';

/**
 * The shortcut of a block whose output has `filters` channels at `stride` (He et al. 2015, section 3.3):
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
  if (stride === 1 && x.shape[3] === filters) return x;
  if (option === 'B') return batchNorm(ctx, `${name}.bn`, conv(ctx, `${name}.conv`, x, { filters, kernel: 1, stride }));
  return zeroPaddedIdentity(x, filters, stride);
}

/**
 * Option A as one strided 1x1 convolution with a constant 0/1 kernel: input channel c goes to output channel
 * c + pad, the rest stay zero. That is exactly x[:, ::2, ::2, :] padded with zero channels on both sides (as in
 * the common PyTorch reproductions), but a convolution is a fast, differentiable kernel on every TF.js backend,
 * whereas StridedSlice has no gradient in TF.js 4.22. It costs well under 1% of a block's multiply-adds.
 */
function zeroPaddedIdentity(x: tf.Tensor4D, filters: number, stride: 1 | 2): tf.Tensor4D {
  return tf.conv2d(x, selectionKernel(x.shape[3], filters), stride, 'valid');
}

const selectionKernels = new Map<string, tf.Tensor4D>();

function selectionKernel(inChannels: number, outChannels: number): tf.Tensor4D {
  const key = `${tf.getBackend()}:${inChannels}:${outChannels}`;
  const cached = selectionKernels.get(key);
  if (cached && !cached.isDisposed) return cached;
  const pad = Math.floor((outChannels - inChannels) / 2);
  const values = new Float32Array(inChannels * outChannels);
  for (let c = 0; c < inChannels; c++) values[c * outChannels + c + pad] = 1;
  const kernel = tf.keep(tf.tensor4d(values, [1, 1, inChannels, outChannels]));
  selectionKernels.set(key, kernel);
  return kernel;
}
