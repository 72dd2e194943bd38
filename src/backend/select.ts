import * as tf from '@tensorflow/tfjs-core';
import '../ops/gradients.js';
import '@tensorflow/tfjs-backend-cpu';
import { BACKENDS, type BackendName } from '../config/schema.js';
import { err, ok, type Result } from '../result.js';
import { convProbe, maxRelativeError } from './self-check.js';
import type { ThreadPlan } from './threads.js';

/** The TF.js backend name each of our choices registers. */
const TFJS_NAME: Record<BackendName, string> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  onednn: 'onednn',
  wasm: 'wasm',
  cpu: 'cpu',
};

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

async function importOptional(specifier: string): Promise<Result<void, string>> {
  try {
    await import(specifier);
    return ok(undefined);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return err(code === 'ERR_MODULE_NOT_FOUND' ? `${specifier} is not installed` : errorText(e));
  }
}

/** Registers (and initialises) a backend on `threads` where it has a thread count of ours; does not select it. */
async function load(name: BackendName, threads?: ThreadPlan): Promise<Result<void, string>> {
  switch (name) {
    case 'tensorflow-gpu':
      return importOptional('@tensorflow/tfjs-node-gpu');
    case 'tensorflow':
      return importOptional('@tensorflow/tfjs-node');
    case 'onednn':
      return (await import('./onednn.js')).loadOnednnBackend(threads);
    case 'wasm':
      return (await import('./wasm.js')).loadWasmBackend(threads ? { threads: threads.count } : {});
    case 'cpu':
      return ok(undefined);
  }
}

let cpuReference: number[] | undefined;

/** Loads `name`, makes it current and checks a small conv forward/backward against the `cpu` backend. */
async function tryBackend(name: BackendName, threads?: ThreadPlan): Promise<Result<void, string>> {
  const loaded = await load(name, threads).catch((e: unknown) => err(errorText(e)));
  if (!loaded.ok) return loaded;
  try {
    if (cpuReference === undefined) {
      await tf.setBackend('cpu');
      cpuReference = convProbe();
    }
    if (!(await tf.setBackend(TFJS_NAME[name]))) return err(`TF.js could not initialise backend '${TFJS_NAME[name]}'`);
    if (name === 'tensorflow-gpu' && !tfjsNodeSeesGpu()) return err('no CUDA GPU visible to TensorFlow');
    const error = maxRelativeError(convProbe(), cpuReference);
    return error <= 1e-3 ? ok(undefined) : err(`self-check failed: conv gradients differ from cpu by ${error.toExponential(1)}`);
  } catch (e) {
    return err(`self-check failed: ${errorText(e)}`);
  }
}

function tfjsNodeSeesGpu(): boolean {
  // tfjs-node-gpu falls back to the CPU silently when CUDA is missing; the device list tells.
  const backend = tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } };
  return backend.binding?.isUsingGpuDevice?.() ?? true;
}

export interface BackendChoice {
  name: BackendName;
  /** Backends tried before it, with the reason each was passed over. */
  skipped: { name: BackendName; reason: string }[];
  /** The thread count the backend computes on (onednn, wasm), and whether it adapts to other load (onednn opt-in). */
  threads?: ThreadPlan;
  /** OpenMP's wait policy (onednn). */
  waitPolicy?: string;
  /** Why an asked-for thread plan was not followed, if it was not: for a warning. */
  threadsNote?: string;
  /** Subscribes to thread-count changes (only an adaptive backend has any); returns the unsubscribe. */
  onThreadChange?(listener: (from: number, to: number) => void): () => void;
}

/** What the backend now current actually runs on: the count it reports, not only the one asked for. */
async function describeThreads(name: BackendName, asked: ThreadPlan | undefined): Promise<Partial<BackendChoice>> {
  if (name === 'onednn') {
    const onednn = await import('./onednn.js');
    const info = onednn.onednnInfo();
    if (!info) return {};
    const refusal = asked ? onednn.onednnAdaptiveRefusal(asked) : undefined;
    return {
      threads: { count: info.threads, adaptive: info.adaptive },
      waitPolicy: info.waitPolicy,
      ...(refusal ? { threadsNote: `adaptive threads are off (${refusal}): fixed at ${info.threads}` } : {}),
      ...(info.adaptive ? { onThreadChange: onednn.watchOnednnThreads } : {}),
    };
  }
  if (name === 'wasm') {
    const wasm = await import('./wasm.js');
    const count = wasm.wasmThreads();
    if (count === undefined) return {};
    const notes: string[] = [];
    if (asked?.adaptive) notes.push(`wasm's thread pool is fixed when it starts; adaptive threads are onednn's only`);
    if (asked && count !== asked.count) {
      const why = wasm.wasmMultiThreadFailure();
      notes.push(`wasm runs on ${count} thread${count === 1 ? '' : 's'}, not the ${asked.count} asked for${why ? ` (multi-threaded start-up: ${why})` : ''}`);
    }
    return { threads: { count, adaptive: false }, ...(notes.length ? { threadsNote: notes.join('; ') } : {}) };
  }
  return {};
}

/**
 * `auto` tries the backends from fastest to slowest and keeps the first that loads and passes the self-check;
 * a named backend is used or refused with the reason. `threads` is applied to onednn and wasm (TensorFlow's
 * own backends pick their own; cpu is one thread of JavaScript).
 */
export async function chooseBackend(requested: BackendName | 'auto', threads?: ThreadPlan): Promise<Result<BackendChoice, string>> {
  tf.env().set('PROD', true);
  const candidates = requested === 'auto' ? BACKENDS : [requested];
  const skipped: BackendChoice['skipped'] = [];
  for (const name of candidates) {
    const tried = await tryBackend(name, threads);
    if (tried.ok) {
      await tf.setBackend(TFJS_NAME[name]);
      return ok({ name, skipped, ...(await describeThreads(name, threads)) });
    }
    skipped.push({ name, reason: tried.error });
  }
  if (requested !== 'auto') return err(`backend '${requested}' cannot be used: ${skipped[0].reason}`);
  return err(`no TF.js backend could be used: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

export interface BackendStatus {
  name: BackendName;
  usable: boolean;
  detail: string;
}

/** Every backend's status, for `doctor`. */
export async function probeBackends(): Promise<BackendStatus[]> {
  tf.env().set('PROD', true);
  const statuses: BackendStatus[] = [];
  for (const name of BACKENDS) {
    const tried = await tryBackend(name);
    statuses.push({ name, usable: tried.ok, detail: tried.ok ? 'passes the conv self-check' : tried.error });
  }
  return statuses;
}
