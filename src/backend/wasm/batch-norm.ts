import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from '../../ops/batch-norm.js';
import { fromValues, heapValues } from './kernel-calls.js';

/**
 * The training batch-norm contract of src/ops/batch-norm.ts for wasm.
 *
 * On wasm the composite (tf.moments + batchNorm4d and TF.js's derived gradient) spends most of a ResNet
 * step in Tile (broadcasting [C] statistics to the activation's shape, element by element) and in
 * reductions that transpose the whole activation first: measured ~4.6 s of Tile alone per ResNet-20 step at
 * batch 128. Per-channel statistics are one streaming pass over the NHWC heap data, so these kernels do them
 * as plain loops over the wasm heap (float64 accumulators), as is the normalisation.
 */

function channelsOf(x: tf.TensorInfo): { channels: number; count: number } {
  if (x.shape.length !== 4 || x.dtype !== 'float32') {
    throw new Error(`wasm ${BATCH_NORM_TRAIN}: expected a float32 NHWC tensor, got ${x.dtype} [${x.shape.join(', ')}]`);
  }
  const channels = x.shape[3]!;
  return { channels, count: x.shape[0]! * x.shape[1]! * x.shape[2]! };
}

/**
 * Per-channel mean and biased variance in one pass. Sums are of x − x[first pixel] in float64: the shift
 * keeps Σd² − (Σd)²/M from cancelling when |mean| ≫ std, which a plain one-pass variance would.
 */
function moments(xs: Float32Array, channels: number, count: number): { mean: Float64Array; variance: Float64Array } {
  const shift = Float64Array.from(xs.subarray(0, channels));
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  for (let p = 0, i = 0; p < count; p++) {
    for (let c = 0; c < channels; c++, i++) {
      const d = xs[i]! - shift[c]!;
      sum[c]! += d;
      sumSq[c]! += d * d;
    }
  }
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const m = sum[c]! / count;
    mean[c] = shift[c]! + m;
    variance[c] = Math.max(0, sumSq[c]! / count - m * m);
  }
  return { mean, variance };
}

/** y = x·a[c] + b[c]: wasm's own FusedBatchNorm kernel took ~2.5x as long as this loop for the same pass. */
function affine(xs: Float32Array, ys: Float32Array, a: Float64Array, b: Float64Array): void {
  const channels = a.length;
  for (let i = 0; i < xs.length; ) {
    for (let c = 0; c < channels; c++, i++) ys[i] = xs[i]! * a[c]! + b[c]!;
  }
}

function batchNormTrain({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const wasm = backend as BackendWasm;
  const { x, scale, offset } = inputs as { x: tf.TensorInfo; scale: tf.TensorInfo; offset: tf.TensorInfo };
  const { epsilon } = attrs as { epsilon: number };
  const { channels, count } = channelsOf(x);
  // Allocate before taking heap views: an allocation may grow (and so move) the heap.
  const y = wasm.makeOutput(x.shape, 'float32');
  const { mean, variance } = moments(heapValues(wasm, x), channels, count);
  const gamma = heapValues(wasm, scale);
  const beta = heapValues(wasm, offset);
  const a = new Float64Array(channels);
  const b = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    a[c] = gamma[c]! / Math.sqrt(variance[c]! + epsilon);
    b[c] = beta[c]! - mean[c]! * a[c]!;
  }
  affine(heapValues(wasm, x), heapValues(wasm, y), a, b);
  return [y, fromValues(wasm, [channels], Float32Array.from(mean)), fromValues(wasm, [channels], Float32Array.from(variance))];
}

/**
 * With x̂ = (x − μ)·σ⁻¹ and M = N·H·W: dOffset = Σ dy, dScale = Σ dy·x̂, and
 * dx = γσ⁻¹·(dy − dOffset/M − x̂·dScale/M), which is per channel the affine k1·dy + k2·x + k3.
 */
function batchNormTrainGrad({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const wasm = backend as BackendWasm;
  const { dy, x, scale, mean, variance } = inputs as Record<'dy' | 'x' | 'scale' | 'mean' | 'variance', tf.TensorInfo>;
  const { epsilon } = attrs as { epsilon: number };
  const { channels, count } = channelsOf(x);
  // Allocate before taking heap views: an allocation may grow (and so move) the heap.
  const dx = wasm.makeOutput(x.shape, 'float32');
  const gamma = Float64Array.from(heapValues(wasm, scale));
  const mu = Float64Array.from(heapValues(wasm, mean));
  const invStd = Float64Array.from(heapValues(wasm, variance), (v) => 1 / Math.sqrt(v + epsilon));
  const dys = heapValues(wasm, dy);
  const xs = heapValues(wasm, x);

  const sumDy = new Float64Array(channels);
  const sumDyXc = new Float64Array(channels);
  for (let p = 0, i = 0; p < count; p++) {
    for (let c = 0; c < channels; c++, i++) {
      const g = dys[i]!;
      sumDy[c]! += g;
      sumDyXc[c]! += g * (xs[i]! - mu[c]!);
    }
  }
  const dScale = new Float32Array(channels);
  const k1 = new Float64Array(channels);
  const k2 = new Float64Array(channels);
  const k3 = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const ds = sumDyXc[c]! * invStd[c]!;
    dScale[c] = ds;
    k1[c] = gamma[c]! * invStd[c]!;
    k2[c] = (-k1[c]! * invStd[c]! * ds) / count;
    k3[c] = (-k1[c]! * sumDy[c]!) / count - k2[c]! * mu[c]!;
  }
  const dxs = heapValues(wasm, dx);
  for (let p = 0, i = 0; p < count; p++) {
    for (let c = 0; c < channels; c++, i++) {
      dxs[i] = k1[c]! * dys[i]! + k2[c]! * xs[i]! + k3[c]!;
    }
  }
  const dScaleOut = fromValues(wasm, [channels], dScale);
  const dOffsetOut = fromValues(wasm, [channels], Float32Array.from(sumDy));
  return [dx, dScaleOut, dOffsetOut];
}

export function registerWasmBatchNormKernels(): void {
  tf.registerKernel({ kernelName: BATCH_NORM_TRAIN, backendName: 'wasm', kernelFunc: batchNormTrain });
  tf.registerKernel({ kernelName: BATCH_NORM_TRAIN_GRAD, backendName: 'wasm', kernelFunc: batchNormTrainGrad });
}
