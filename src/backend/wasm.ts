import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { err, ok, type Result } from '../result.js';
import { registerWasmBatchNormKernels } from './wasm/batch-norm.js';
import { conv2dFilterGrad, conv2dInputGradPhases, convGeometry } from './wasm/conv-grads.js';
import { sharedMemoryAvailable, withNodeThreadSupport } from './wasm/node-threads.js';

/**
 * The wasm backend set up for training: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter at all and a
 * scalar-loop Conv2DBackpropInput, so both are replaced by kernels built on its XNNPACK forward conv; and the
 * training batch-norm contract of src/ops/batch-norm.ts is filled, because the composite's gradient is dominated
 * by wasm's slow Tile.
 */

type WasmPackage = typeof import('@tensorflow/tfjs-backend-wasm');

const require = createRequire(import.meta.url);

/**
 * Loaded with require, not a static import: importing the package registers the 'wasm' backend at a
 * higher priority than 'cpu', which would silently change the default backend of any program that
 * merely imports this module.
 */
function wasmPackage(): WasmPackage {
  return require('@tensorflow/tfjs-backend-wasm') as WasmPackage;
}

function asWasm(backend: unknown): BackendWasm {
  return backend as BackendWasm;
}

let stockInputGrad: tf.KernelConfig | undefined;

function registerFilterGrad(): void {
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
      const g = convGeometry(
        x.shape as [number, number, number, number],
        filterShape,
        strides,
        pad,
        dataFormat,
        dimRoundingMode,
      );
      if (g === null) {
        throw new Error(
          `wasm Conv2DBackpropFilter supports NHWC with 'same'/'valid' padding only ` +
            `(got dataFormat=${dataFormat}, pad=${JSON.stringify(pad)}, dimRoundingMode=${String(dimRoundingMode)})`,
        );
      }
      return conv2dFilterGrad(asWasm(backend), x, dy, g);
    },
  });
}

function registerInputGrad(): void {
  const stock = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
  if (stock !== undefined) {
    tf.unregisterKernel(tf.Conv2DBackpropInput, 'wasm');
    stockInputGrad = stock;
  }
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropInput,
    backendName: 'wasm',
    // Ours measured 5-10x faster at every ResNet shape (bench/wasm-convs.ts). The stock kernel stays the
    // fallback for configs ours does not cover, and needs its own setup for that.
    setupFunc: (backend) => stockInputGrad?.setupFunc?.(backend),
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { dy, filter } = inputs as unknown as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
      const filterShape = filter.shape as [number, number, number, number];
      const g = convGeometry(inputShape, filterShape, strides, pad, dataFormat, dimRoundingMode);
      if (g === null || g.sh !== g.sw) {
        if (stockInputGrad === undefined) {
          throw new Error(`wasm Conv2DBackpropInput: unsupported config and no stock kernel to fall back to`);
        }
        return stockInputGrad.kernelFunc(args);
      }
      return conv2dInputGradPhases(asWasm(backend), dy, filter, g);
    },
  });
}

/** The package's own Conv2DBackpropInput, replaced by ours; exposed for benchmarking against it. */
export function stockWasmInputGrad(): tf.KernelConfig | undefined {
  return stockInputGrad;
}

let kernelsRegistered = false;

/** Idempotent. Loads the wasm package (for its stock kernels) if nothing has yet. */
export function registerWasmTrainingKernels(): void {
  if (kernelsRegistered) {
    return;
  }
  wasmPackage();
  registerFilterGrad();
  registerInputGrad();
  registerWasmBatchNormKernels();
  kernelsRegistered = true;
}

export interface WasmBackendOptions {
  /**
   * XNNPACK threads. Default: all cores (the multi-threaded SIMD build); 1 selects the single-threaded
   * SIMD build, which also avoids starting the package's 8 pool workers.
   */
  threads?: number;
}

const INIT_TIMEOUT_MS = 60_000;

let loaded: Promise<Result<void, string>> | undefined;

/** Idempotent: later calls return the first call's result (and re-select 'wasm' if another backend was set). */
export async function loadWasmBackend(options: WasmBackendOptions = {}): Promise<Result<void, string>> {
  loaded ??= initWasm(options.threads ?? os.availableParallelism());
  const result = await loaded;
  if (result.ok && tf.getBackend() !== 'wasm') {
    await tf.setBackend('wasm');
  }
  return result;
}

/** Why the multi-threaded build did not start, when it did not: said beside the thread count it fell back to. */
let multiThreadFailure: string | undefined;

export const wasmMultiThreadFailure = (): string | undefined => multiThreadFailure;

async function initWasm(threads: number): Promise<Result<void, string>> {
  let pkg: WasmPackage;
  try {
    pkg = wasmPackage();
    registerWasmTrainingKernels();
  } catch (e) {
    return err(`cannot load @tensorflow/tfjs-backend-wasm: ${oneLine(e)}`);
  }
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  // Node cannot fetch() a file path; point the loader at the package's own binaries explicitly.
  pkg.setWasmPaths(wasmDir + path.sep);

  const wantThreads = threads > 1 && sharedMemoryAvailable();
  if (wantThreads) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    pkg.setThreadsCount(threads);
    const started = await withNodeThreadSupport(threads, wasmDir, (workerExited) =>
      setBackendWithin('wasm', INIT_TIMEOUT_MS, workerExited),
    );
    if (started === true) {
      return ok(undefined);
    }
    multiThreadFailure = started === false ? 'tf.setBackend returned false' : started;
    // Fall through to the single-threaded build on a fresh registration of the same factory.
    resetBackend();
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  pkg.setThreadsCount(1);
  const started = await setBackendWithin('wasm', INIT_TIMEOUT_MS);
  if (started !== true) {
    return err(`wasm backend failed to initialise: ${started === false ? 'tf.setBackend returned false' : started}`);
  }
  return ok(undefined);
}

/**
 * XNNPACK's pool size the backend started with (fixed from then on: the pool cannot be resized), or undefined
 * before it started. 1 when the multi-threaded build could not start here.
 */
export function wasmThreads(): number | undefined {
  if (loaded === undefined) return undefined;
  try {
    const n = wasmPackage().getThreadsCount();
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** true, false (init failed; tfjs logged why), or a reason string on timeout/throw or when `failed` resolves first. */
async function setBackendWithin(name: string, ms: number, failed?: Promise<string>): Promise<boolean | string> {
  let timer: NodeJS.Timeout | undefined;
  // Deliberately ref'd: emscripten unrefs each pool worker once it has loaded, so while start-up waits for
  // the rest this timer may be the only handle keeping the event loop, and with it this await, alive.
  // It is cleared the moment start-up settles, so it never holds a finished process open.
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`timed out after ${ms} ms`), ms);
  });
  try {
    return await Promise.race([tf.setBackend(name), timeout, ...(failed ? [failed] : [])]);
  } catch (e) {
    return oneLine(e);
  } finally {
    clearTimeout(timer);
  }
}

function resetBackend(): void {
  const factory = tf.findBackendFactory('wasm');
  if (factory === null) {
    return;
  }
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', factory, 2);
}

function oneLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0] ?? message;
}
