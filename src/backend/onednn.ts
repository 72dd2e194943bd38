import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { err, ok, type Result } from '../result.js';
import { loadAddon, ompWaitPolicy, type OnednnAddon } from './onednn/addon.js';
import { batchNormKernels } from './onednn/bn-kernels.js';
import { convKernels } from './onednn/conv-kernels.js';
import { installReluGradient } from '../ops/relu.js';
import { eltwiseKernels } from './onednn/eltwise-kernels.js';
import { updateKernels } from './onednn/update-kernels.js';
import { lossKernels } from './loss-kernels.js';
import { PooledCpuBackend } from './onednn/pooled-backend.js';
import { AdaptiveThreads, readProcStat } from './onednn/thread-policy.js';
import type { ThreadPlan } from './threads.js';

/**
 * The `onednn` TF.js backend: the cpu backend with convolutions, batch norm (training and evaluation), ReLU and its
 * gradient, element-wise arithmetic and contiguous reductions run natively by oneDNN 2.x (Debian's libdnnl 2.6)
 * through the N-API addon in native/onednn, built at install time (scripts/build-native.mjs).
 *
 * Threads: a fixed count per run (see ThreadPlan), load-adaptive only when asked for. OpenMP waits passively
 * unless OMP_WAIT_POLICY says otherwise (see ompWaitPolicy). Environment: RESNET_EXP_ONEDNN_POOL_MB caps the pool
 * of recycled output buffers (default 2048); RESNET_EXP_ONEDNN_ADDON points at another build of the addon.
 */
export const ONEDNN_BACKEND = 'onednn';

let registration: Result<OnednnAddon, string> | undefined;
let adaptive: AdaptiveThreads | undefined;
const threadListeners = new Set<(from: number, to: number) => void>();

/**
 * Why adaptation cannot be had here, if it cannot. /proc/stat's load is the whole machine's, so under CPU pinning
 * (taskset, a Slurm cpuset) it would be scaled by the wrong core count.
 */
function adaptiveRefusal(count: number): string | undefined {
  if (count < 2) return 'it starts from 1 thread';
  if (os.availableParallelism() !== os.cpus().length) return 'this process is pinned to a subset of the cores';
  if (!readProcStat()) return '/proc/stat is unreadable';
  return undefined;
}

function register(): Result<OnednnAddon, string> {
  const addon = loadAddon();
  if (!addon.ok) return addon;
  if (!tf.findBackendFactory(ONEDNN_BACKEND)) {
    // The cpu backend (tensors stay plain Float32Arrays, so every cpu kernel works unchanged) with the heavy
    // kernels replaced by native ones writing into pooled buffers.
    tf.registerBackend(ONEDNN_BACKEND, () => new PooledCpuBackend());
  }
  const native = [
    ...convKernels(addon.value, ONEDNN_BACKEND, () => adaptive?.tick()),
    ...batchNormKernels(addon.value, ONEDNN_BACKEND),
    ...eltwiseKernels(addon.value, ONEDNN_BACKEND),
    ...updateKernels(addon.value, ONEDNN_BACKEND),
    ...lossKernels(ONEDNN_BACKEND),
  ];
  const replaced = new Set(native.map((k) => k.kernelName));
  for (const kernel of tf.getKernelsForBackend('cpu')) {
    if (!replaced.has(kernel.kernelName)) tf.registerKernel({ ...kernel, backendName: ONEDNN_BACKEND });
  }
  for (const kernel of native) tf.registerKernel(kernel);
  return addon;
}

/**
 * Registers the `onednn` backend (once) and makes it the current one, on `threads` (default: what the machine
 * offers, fixed). Fails with a one-line reason when the addon isn't built (the install's one-line reason) or
 * doesn't load; the current backend is then unchanged.
 */
export async function loadOnednnBackend(threads?: ThreadPlan): Promise<Result<void, string>> {
  registration ??= register();
  if (!registration.ok) return err(registration.error);
  if (threads) {
    const set = setOnednnThreads(threads.count);
    if (!set.ok) return set;
    if (threads.adaptive && adaptiveRefusal(threads.count) === undefined) {
      const addon = registration.value;
      adaptive = new AdaptiveThreads(os.availableParallelism(), threads.count, (n, previous) => {
        addon.setNumThreads(n);
        for (const listener of threadListeners) listener(previous, n);
      });
    }
  }
  // Again on every call: registering TF.js's gradients after us would have put back the unfused one.
  installReluGradient();
  if (tf.getBackend() !== ONEDNN_BACKEND && !(await tf.setBackend(ONEDNN_BACKEND))) {
    return err('TF.js could not initialise the onednn backend');
  }
  return ok(undefined);
}

/** Why `adaptive` was asked for but the count stays fixed, if so. */
export function onednnAdaptiveRefusal(threads: ThreadPlan): string | undefined {
  return threads.adaptive && adaptive === undefined ? adaptiveRefusal(threads.count) : undefined;
}

/**
 * Calls `listener` whenever the adaptive opt-in changes the count (never otherwise); returns the unsubscribe.
 * Sums split over another number of threads round differently, so a run logs when its count changed.
 */
export function watchOnednnThreads(listener: (from: number, to: number) => void): () => void {
  threadListeners.add(listener);
  return () => threadListeners.delete(listener);
}

/** The loaded addon's oneDNN version, current thread count, whether that count adapts to load, OpenMP's wait policy. */
export function onednnInfo(): { version: string; threads: number; adaptive: boolean; waitPolicy: string } | undefined {
  const addon = loadAddon();
  return addon.ok
    ? { version: addon.value.version(), threads: addon.value.numThreads(), adaptive: adaptive !== undefined, waitPolicy: ompWaitPolicy() }
    : undefined;
}

/** Fixes the threads oneDNN and the element-wise kernels use from now on, ending any adaptation. */
export function setOnednnThreads(threads: number): Result<void, string> {
  const addon = loadAddon();
  if (!addon.ok) return err(addon.error);
  if (!Number.isInteger(threads) || threads < 1) return err(`onednn threads must be a positive integer, got ${threads}`);
  adaptive = undefined;
  // Only when it changes: setting the count rebuilds every cached primitive.
  if (addon.value.numThreads() !== threads) addon.value.setNumThreads(threads);
  return ok(undefined);
}
