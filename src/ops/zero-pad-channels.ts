import * as tf from '@tensorflow/tfjs-core';

/**
 * Option A's shortcut where the shape changes (He et al. 2015, section 3.3): x subsampled by `stride` and padded
 * with zero channels on both sides up to `outChannels`, parameter-free.
 *
 * Computed as one strided 1x1 convolution with a constant 0/1 kernel: input channel c goes to output channel
 * c + pad, the rest stay zero. That is exactly x[:, ::2, ::2, :] padded with zero channels on both sides (as in
 * the common PyTorch reproductions), but a convolution is a fast, differentiable kernel on every TF.js backend,
 * whereas StridedSlice has no gradient in TF.js 4.22. It costs well under 1% of a block's multiply-adds.
 */
export function zeroPadChannels(x: tf.Tensor4D, outChannels: number, stride: 1 | 2): tf.Tensor4D {
  return tf.conv2d(x, selectionKernel(x.shape[3], outChannels), stride, 'valid');
}

/** One constant kernel per backend and shape: a tensor belongs to the backend that made it. */
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
