import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { PooledCpuBackend } from './pooled-backend.js';

export type KernelArgs = Parameters<tf.KernelFunc>[0];
export type KernelResult = ReturnType<tf.KernelFunc>;

/** Native kernels run on the onednn backend, which is a MathBackendCPU: tensors live in its data map. */
export const cpuBackendOf = (args: KernelArgs): MathBackendCPU => args.backend as MathBackendCPU;

/** The tensor's own Float32Array (not a copy), or undefined when it isn't float32 data we can hand over. */
export function f32(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined;
  const values = backend.data.get(t.dataId)?.values;
  return values instanceof Float32Array ? values : undefined;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A fresh float32 output: the buffer to fill natively and the TensorInfo that owns it. */
export function newOutput(backend: MathBackendCPU, shape: number[]): { values: Float32Array; info: tf.TensorInfo } {
  // Pooled and uninitialised on the onednn backend: every native kernel writes all of its output.
  const values = backend instanceof PooledCpuBackend ? backend.allocFloat32(sizeOf(shape)) : new Float32Array(sizeOf(shape));
  return { values, info: backend.makeTensorInfo(shape, 'float32', values) };
}

/** The cpu backend's implementation of a kernel, for inputs the native one does not take (other dtypes, layouts, broadcasting). */
export function cpuFallback(kernelName: string): tf.KernelFunc {
  const config = tf.getKernel(kernelName, 'cpu');
  if (!config) throw new Error(`the cpu backend has no ${kernelName} kernel to fall back on`);
  return config.kernelFunc;
}

/** The named inputs of a kernel call, all required. */
export function inputsOf<K extends string>(args: KernelArgs, ...names: K[]): Record<K, tf.TensorInfo> {
  const out = {} as Record<K, tf.TensorInfo>;
  for (const name of names) {
    const t = args.inputs[name];
    if (!t) throw new Error(`kernel input '${name}' is missing`);
    out[name] = t;
  }
  return out;
}
