import * as tf from '@tensorflow/tfjs-core';
import { err, ok, type Result } from '../result.js';
import { loadAddon, type OnednnAddon } from './onednn/addon.js';
import { batchNormKernels } from './onednn/bn-kernels.js';
import { convKernels } from './onednn/conv-kernels.js';
import { eltwiseKernels, installReluGradient } from './onednn/eltwise-kernels.js';
import { PooledCpuBackend } from './onednn/pooled-backend.js';

/**
 * The `onednn` TF.js backend: the cpu backend with convolutions, batch norm (training and evaluation), ReLU and its
 * gradient, element-wise arithmetic and contiguous reductions run natively by oneDNN 2.x (Debian's libdnnl 2.6)
 * through the N-API addon in native/onednn, built at install time when libdnnl-dev is present.
 *
 * Environment: OMP_NUM_THREADS sets the threads (default: every core; on a machine busy with other work one
 * thread is often faster, see setOnednnThreads); RESNET_EXP_ONEDNN_POOL_MB caps the pool of recycled output
 * buffers (default 2048); RESNET_EXP_ONEDNN_ADDON points at another build of the addon.
 */
export const ONEDNN_BACKEND = 'onednn';

let registration: Result<OnednnAddon, string> | undefined;

function register(): Result<OnednnAddon, string> {
  const addon = loadAddon();
  if (!addon.ok) return addon;
  if (!tf.findBackendFactory(ONEDNN_BACKEND)) {
    // The cpu backend (tensors stay plain Float32Arrays, so every cpu kernel works unchanged) with the heavy
    // kernels replaced by native ones writing into pooled buffers.
    tf.registerBackend(ONEDNN_BACKEND, () => new PooledCpuBackend());
  }
  const native = [
    ...convKernels(addon.value, ONEDNN_BACKEND),
    ...batchNormKernels(addon.value, ONEDNN_BACKEND),
    ...eltwiseKernels(addon.value, ONEDNN_BACKEND),
  ];
  const replaced = new Set(native.map((k) => k.kernelName));
  for (const kernel of tf.getKernelsForBackend('cpu')) {
    if (!replaced.has(kernel.kernelName)) tf.registerKernel({ ...kernel, backendName: ONEDNN_BACKEND });
  }
  for (const kernel of native) tf.registerKernel(kernel);
  return addon;
}

/**
 * Registers the `onednn` backend (once) and makes it the current one. Fails with a one-line reason when the
 * addon isn't built (no libdnnl-dev at install time) or doesn't load; the current backend is then unchanged.
 */
export async function loadOnednnBackend(): Promise<Result<void, string>> {
  registration ??= register();
  if (!registration.ok) return err(registration.error);
  // Again on every call: registering TF.js's gradients after us would have put back the unfused one.
  installReluGradient();
  if (tf.getBackend() !== ONEDNN_BACKEND && !(await tf.setBackend(ONEDNN_BACKEND))) {
    return err('TF.js could not initialise the onednn backend');
  }
  return ok(undefined);
}

/** The loaded addon's oneDNN version and thread count, for logs and benchmarks. */
export function onednnInfo(): { version: string; threads: number } | undefined {
  const addon = loadAddon();
  return addon.ok ? { version: addon.value.version(), threads: addon.value.numThreads() } : undefined;
}

/**
 * Sets the threads oneDNN and the element-wise kernels use (default: OMP_NUM_THREADS, else every core). One thread
 * can beat two on a machine busy with other work, where a parallel region waits for its slowest thread.
 */
export function setOnednnThreads(threads: number): Result<void, string> {
  const addon = loadAddon();
  if (!addon.ok) return err(addon.error);
  if (!Number.isInteger(threads) || threads < 1) return err(`onednn threads must be a positive integer, got ${threads}`);
  addon.value.setNumThreads(threads);
  return ok(undefined);
}
