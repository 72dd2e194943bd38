import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Thin typed calls into the wasm backend's own kernels, for composing new kernels out of them.
 *
 * Composite kernels run inside the engine's kernel call, so they must not use tf.* ops (those would be
 * recorded on the gradient tape and tracked as engine tensors); they call sibling kernels directly and
 * free every intermediate TensorInfo themselves via `release`.
 */

/** Explicit NHWC padding per side; negative values mean "crop this many rows/columns". */
export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

function stockKernel(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, 'wasm');
  if (config === undefined) {
    throw new Error(`wasm kernel '${name}' is not registered (was @tensorflow/tfjs-backend-wasm loaded?)`);
  }
  return config.kernelFunc;
}

function single(out: tf.TensorInfo | tf.TensorInfo[]): tf.TensorInfo {
  if (Array.isArray(out)) {
    throw new Error('expected a single-output kernel');
  }
  return out;
}

export function release(backend: BackendWasm, ...infos: tf.TensorInfo[]): void {
  for (const info of infos) {
    backend.disposeData(info.dataId);
  }
}

export function transpose(backend: BackendWasm, x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  return single(stockKernel(tf.Transpose)({ inputs: { x }, backend, attrs: { perm } }));
}

export function reshape(backend: BackendWasm, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return single(stockKernel(tf.Reshape)({ inputs: { x }, backend, attrs: { shape } }));
}

/**
 * NHWC DepthToSpace: [N, H, W, b·b·C] → [N, H·b, W·b, C], the channel block (bh·b + bw) going to offset
 * (bh, bw). Done as one 4-D transpose of [N·H, W, b, b·C] (swap W and the row block), because wasm's own
 * DepthToSpace kernel copies element by element and was ~10x slower than that transpose here.
 */
export function depthToSpace(backend: BackendWasm, x: tf.TensorInfo, blockSize: number): tf.TensorInfo {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const depth = c / (blockSize * blockSize);
  const blocks = reshape(backend, x, [n * h, w, blockSize, blockSize * depth]);
  const moved = transpose(backend, blocks, [0, 2, 1, 3]);
  release(backend, blocks);
  const out = reshape(backend, moved, [n, h * blockSize, w * blockSize, depth]);
  release(backend, moved);
  return out;
}

export function slice(backend: BackendWasm, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  return single(stockKernel(tf.Slice)({ inputs: { x }, backend, attrs: { begin, size } }));
}

export function concat(backend: BackendWasm, xs: tf.TensorInfo[], axis: number): tf.TensorInfo {
  return single(stockKernel(tf.Concat)({ inputs: xs as unknown as tf.NamedTensorInfoMap, backend, attrs: { axis } }));
}

export function zeros(backend: BackendWasm, shape: number[]): tf.TensorInfo {
  return single(stockKernel(tf.Fill)({ inputs: {}, backend, attrs: { shape, value: 0, dtype: 'float32' } }));
}

/** A float32 tensor on the wasm heap holding `values` (used for small, JS-built filters). */
export function fromValues(backend: BackendWasm, shape: number[], values: Float32Array): tf.TensorInfo {
  return backend.makeOutput(shape, 'float32', undefined, values);
}

/** The live heap view of a float32 tensor: valid only until the next wasm allocation. */
export function heapValues(backend: BackendWasm, x: tf.TensorInfo): Float32Array {
  const view = backend.typedArrayFromHeap(x);
  if (!(view instanceof Float32Array)) {
    throw new Error(`expected a float32 tensor, got ${x.dtype}`);
  }
  return view;
}

/**
 * NHWC conv through wasm's XNNPACK Conv2D with explicit padding. XNNPACK takes only non-negative pads,
 * so a negative pad is applied first as a crop of x.
 */
export function conv2d(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  strides: [number, number],
  dilations: [number, number],
  pads: Pads,
): tf.TensorInfo {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const cropTop = Math.max(0, -pads.top);
  const cropBottom = Math.max(0, -pads.bottom);
  const cropLeft = Math.max(0, -pads.left);
  const cropRight = Math.max(0, -pads.right);
  const needsCrop = cropTop + cropBottom + cropLeft + cropRight > 0;
  const input = needsCrop
    ? slice(backend, x, [0, cropTop, cropLeft, 0], [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c])
    : x;
  const pad = [
    [0, 0],
    [Math.max(0, pads.top), Math.max(0, pads.bottom)],
    [Math.max(0, pads.left), Math.max(0, pads.right)],
    [0, 0],
  ];
  try {
    return single(
      stockKernel(tf.Conv2D)({
        inputs: { x: input, filter },
        backend,
        attrs: { strides, dilations, pad, dataFormat: 'NHWC', dimRoundingMode: 'floor' },
      }),
    );
  } finally {
    if (needsCrop) {
      release(backend, input);
    }
  }
}
