import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD } from '../ops/softmax-cross-entropy.js';
import { newOutput, type KernelArgs, type KernelResult } from './onednn/kernel-util.js';

/**
 * The loss contract of src/ops/softmax-cross-entropy.ts for backends whose tensors are typed arrays in a
 * MathBackendCPU data map (`onednn`; `cpu` stays the TF.js composite, the reference): plain loops, the data being a few hundred floats. Each row's
 * log-sum-exp is taken around its maximum in float64, so ±80 logits (whose exp overflows float32) are fine; the
 * float32 results are rounded once from float64.
 */

interface Batch {
  logits: Float32Array;
  labels: Int32Array;
  rows: number;
  classes: number;
}

function batchOf(args: KernelArgs, kernel: string): Batch {
  const backend = args.backend as MathBackendCPU;
  const { logits, labels } = args.inputs;
  if (!logits || logits.dtype !== 'float32' || logits.shape.length !== 2) throw new Error(`${kernel} takes float32 logits [N, K]`);
  const [rows, classes] = logits.shape as [number, number];
  if (!labels || labels.dtype !== 'int32' || labels.shape.length !== 1 || labels.shape[0] !== rows) {
    throw new Error(`${kernel} takes int32 labels [${rows}] for logits [${rows}, ${classes}]`);
  }
  const l = backend.data.get(logits.dataId)?.values;
  const y = backend.data.get(labels.dataId)?.values;
  if (!(l instanceof Float32Array) || !(y instanceof Int32Array)) throw new Error(`${kernel}: inputs are not plain typed arrays`);
  for (let i = 0; i < rows; i++) {
    if (!(y[i]! >= 0 && y[i]! < classes)) throw new Error(`${kernel}: label ${y[i]} of row ${i} is outside [0, ${classes})`);
  }
  return { logits: l, labels: y, rows, classes };
}

/** Row i's maximum and its first index (tf.argMax's rule: a later equal value does not win; NaN never wins). */
function rowMax(logits: Float32Array, start: number, classes: number): { max: number; at: number } {
  let max = logits[start]!;
  let at = 0;
  for (let j = 1; j < classes; j++) {
    if (logits[start + j]! > max) {
      max = logits[start + j]!;
      at = j;
    }
  }
  return { max, at };
}

/** exp(row − max) into `e` (float64) and their sum. */
function shiftedExps(logits: Float32Array, start: number, max: number, e: Float64Array): number {
  let sum = 0;
  for (let j = 0; j < e.length; j++) {
    e[j] = Math.exp(logits[start + j]! - max);
    sum += e[j]!;
  }
  return sum;
}

function forward(args: KernelArgs): KernelResult {
  const { logits, labels, rows, classes } = batchOf(args, SOFTMAX_CROSS_ENTROPY);
  const e = new Float64Array(classes);
  let total = 0;
  let wrong = 0;
  for (let i = 0, start = 0; i < rows; i++, start += classes) {
    const { max, at } = rowMax(logits, start, classes);
    // A NaN anywhere in the row makes the sum, and so the loss, NaN.
    total += max + Math.log(shiftedExps(logits, start, max, e)) - logits[start + labels[i]!]!;
    if (at !== labels[i]) wrong++;
  }
  const backend = args.backend as MathBackendCPU;
  const loss = newOutput(backend, []);
  loss.values[0] = total / rows;
  return [loss.info, backend.makeTensorInfo([], 'int32', Int32Array.of(wrong))];
}

function gradient(args: KernelArgs): KernelResult {
  const { logits, labels, rows, classes } = batchOf(args, SOFTMAX_CROSS_ENTROPY_GRAD);
  const backend = args.backend as MathBackendCPU;
  const dyInfo = args.inputs.dy;
  const dyValues = dyInfo ? backend.data.get(dyInfo.dataId)?.values : undefined;
  if (!dyInfo || dyInfo.dtype !== 'float32' || dyInfo.shape.length !== 0 || !(dyValues instanceof Float32Array)) {
    throw new Error(`${SOFTMAX_CROSS_ENTROPY_GRAD} takes a float32 scalar dy`);
  }
  const scale = dyValues[0]! / rows;
  const out = newOutput(backend, [rows, classes]);
  const e = new Float64Array(classes);
  for (let i = 0, start = 0; i < rows; i++, start += classes) {
    const sum = shiftedExps(logits, start, rowMax(logits, start, classes).max, e);
    for (let j = 0; j < classes; j++) out.values[start + j] = (e[j]! / sum - (j === labels[i] ? 1 : 0)) * scale;
  }
  return out.info;
}

export const lossKernels = (backendName: string): tf.KernelConfig[] => [
  { kernelName: SOFTMAX_CROSS_ENTROPY, backendName, kernelFunc: forward },
  { kernelName: SOFTMAX_CROSS_ENTROPY_GRAD, backendName, kernelFunc: gradient },
];
