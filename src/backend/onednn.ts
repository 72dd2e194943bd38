import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { err, ok, type Result } from '../result.js';
import { loadAddon, type OnednnAddon } from './onednn/addon.js';
import { batchNormKernels } from './onednn/bn-kernels.js';
import { convKernels } from './onednn/conv-kernels.js';
import { eltwiseKernels, installReluGradient } from './onednn/eltwise-kernels.js';
import { PooledCpuBackend } from './onednn/pooled-backend.js';
import { AdaptiveThreads, readProcStat } from './onednn/thread-policy.js';

/**
 * The `onednn` TF.js backend: the cpu backend with convolutions, batch norm (training and evaluation), ReLU and its
 * gradient, element-wise arithmetic and contiguous reductions run natively by oneDNN 2.x (Debian's libdnnl 2.6)
 * through the N-API addon in native/onednn, built at install time (scripts/build-native.mjs).
 *
 * Environment: OMP_NUM_THREADS fixes the threads (default: every core while the machine is otherwise idle, fewer
 * while other processes keep cores busy; RESNET_EXP_ONEDNN_ADAPTIVE=0 keeps every core regardless, see
 * AdaptiveThreads and setOnednnThreads); RESNET_EXP_ONEDNN_POOL_MB caps the pool of recycled output
 * buffers (default 2048); RESNET_EXP_ONEDNN_ADDON points at another build of the addon.
 */
export const ONEDNN_BACKEND = 'onednn';

let registration: Result<OnednnAddon, string> | undefined;
let adaptive: AdaptiveThreads | undefined;
let explicitThreads = false;
let threadListener: ((from: number, to: number) => void) | undefined;

/**
 * Adapt the thread count to other load unless the user chose it (OMP_NUM_THREADS, setOnednnThreads) or opted out.
 * Not when this process may use fewer cores than the machine has (taskset, a Slurm cpuset): /proc/stat's load
 * is the whole machine's, so it would be scaled by the wrong core count.
 */
function threadPolicy(addon: OnednnAddon): AdaptiveThreads | undefined {
  const threads = addon.numThreads();
  const pinned = os.availableParallelism() !== os.cpus().length;
  if (explicitThreads || process.env.OMP_NUM_THREADS || process.env.RESNET_EXP_ONEDNN_ADAPTIVE === '0') return undefined;
  if (threads < 2 || pinned || !readProcStat()) return undefined;
  return new AdaptiveThreads(os.availableParallelism(), threads, (n, previous) => {
    addon.setNumThreads(n);
    threadListener?.(previous, n);
  });
}

/**
 * Who hears about thread-count changes (one listener: the run being trained). Sums split over threads round
 * differently, so a run records when its count changed.
 */
export function setOnednnThreadListener(listener: ((from: number, to: number) => void) | undefined): void {
  threadListener = listener;
}

function register(): Result<OnednnAddon, string> {
  const addon = loadAddon();
  if (!addon.ok) return addon;
  if (!tf.findBackendFactory(ONEDNN_BACKEND)) {
    // The cpu backend (tensors stay plain Float32Arrays, so every cpu kernel works unchanged) with the heavy
    // kernels replaced by native ones writing into pooled buffers.
    tf.registerBackend(ONEDNN_BACKEND, () => new PooledCpuBackend());
  }
  adaptive = threadPolicy(addon.value);
  const native = [
    ...convKernels(addon.value, ONEDNN_BACKEND, () => adaptive?.tick()),
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
 * addon isn't built (the install's one-line reason) or doesn't load; the current backend is then unchanged.
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

/** The loaded addon's oneDNN version and current thread count, and whether that count adapts to load. */
export function onednnInfo(): { version: string; threads: number; adaptive: boolean } | undefined {
  const addon = loadAddon();
  return addon.ok ? { version: addon.value.version(), threads: addon.value.numThreads(), adaptive: adaptive !== undefined } : undefined;
}

/**
 * Fixes the threads oneDNN and the element-wise kernels use, ending the load-adaptive default (every core while
 * the machine is otherwise idle, fewer while other processes keep cores busy; see AdaptiveThreads).
 */
export function setOnednnThreads(threads: number): Result<void, string> {
  const addon = loadAddon();
  if (!addon.ok) return err(addon.error);
  if (!Number.isInteger(threads) || threads < 1) return err(`onednn threads must be a positive integer, got ${threads}`);
  explicitThreads = true; // an explicit choice ends the adaptation, also if the backend registers later
  adaptive = undefined;
  addon.value.setNumThreads(threads);
  return ok(undefined);
}
