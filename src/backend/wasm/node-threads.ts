import { existsSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import workerThreads from 'node:worker_threads';
import { createScriptFolder } from './script-folder.js';

/**
 * Lets tfjs-backend-wasm 4.22 start its multi-threaded SIMD build under Node.
 *
 * The package disables threads in Node (tensorflow/tfjs#3830) because its pthread glue hands
 * `new Worker()` Blob URLs, which Node's worker_threads reject, and the worker then importScripts() the
 * module factory from another Blob that closes over bundle-level variables. While `init` runs, this shim
 * records the Blob sources, writes them as real files, and returns those paths instead of blob: URLs.
 * It also (a) widens the core count the module reads, because the C++ side caps its thread pool at
 * logical cores / 2 (1 on a 2-core box), and (b) unrefs the pool's workers once started, because the
 * pool threads never exit and would otherwise keep every process alive after its work is done. That is safe
 * only after start-up: kernel calls then wait for the pool synchronously, never through the event loop.
 *
 * Each script file is written once, whole, by a rename. The worker Blob reaches createObjectURL once per pool
 * worker (8 times), and rewriting the file in place each time truncated it under workers started by the calls
 * before: a worker whose thread read the file inside that window ran an empty script and exited silently, its
 * 'loaded' message never came, and once the others had loaded (and unref'd themselves) the event loop was
 * empty with start-up still pending — exit 13, or a test file's tests cancelled. Rare on an idle machine,
 * common under load; test/backend/wasm-node-threads.test.ts widens the window to reproduce it every time.
 */

/** Writes `file` whole or not at all, so a reader (a worker thread starting up) never sees it half-written. */
function writeWhole(file: string, text: string): void {
  const temp = `${file}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

const MAIN_SCRIPT_MARK = 'var WasmBackendModuleThreadedSimd = ';
const WORKER_SCRIPT_MARK = 'WasmBackendModuleThreadedSimd(Module)';

/**
 * Runs `init` (which must start the wasm backend) with the patches in place, and removes them after.
 * `threads` is the XNNPACK pool size wanted; the package caps it at 8. `init` gets a promise of the reason a
 * pool worker exited, to stop waiting on: start-up would otherwise wait for that worker's 'loaded' forever.
 */
export async function withNodeThreadSupport<T>(
  threads: number,
  wasmPackageDir: string,
  init: (workerExited: Promise<string>) => Promise<T>,
): Promise<T> {
  // Pool workers load these files lazily while the module starts, so they live until the process ends.
  const dir = createScriptFolder();
  const mainScript = path.join(dir, 'wasm-module.cjs');
  const workerScript = path.join(dir, 'wasm-worker.cjs');
  const bundle = path.join(wasmPackageDir, 'tf-backend-wasm.node.js');

  const writeMainScript = (source: string): void => {
    // The factory's source refers to the bundle's module-scope requires and paths; define them.
    const prelude =
      `var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'),` +
      ` require$$4 = require('os'), commonjsGlobal = globalThis, __filename = ${JSON.stringify(bundle)},` +
      ` __dirname = ${JSON.stringify(wasmPackageDir)}, _scriptDir = __filename;\n`;
    writeWhole(mainScript, prelude + source);
  };

  const sources = new WeakMap<Blob, string>();
  const OriginalBlob = globalThis.Blob;
  class RecordingBlob extends OriginalBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const [parts] = args;
      if (parts !== undefined && parts.every((part): part is string => typeof part === 'string')) {
        const source = parts.join('');
        sources.set(this, source);
        // This Blob goes to the workers as is (never through createObjectURL here): write it now.
        if (source.startsWith(MAIN_SCRIPT_MARK)) {
          writeMainScript(source);
        }
      }
    }
  }

  const originalCreateObjectURL = URL.createObjectURL.bind(URL);
  const createObjectURL = (blob: Blob): string => {
    const source = sources.get(blob);
    if (source?.includes(WORKER_SCRIPT_MARK)) {
      // Workers get the module factory as a Blob and would turn it into a blob: URL too. The source is the
      // same for every worker, and workers started before may be reading the file: never write it again.
      if (!existsSync(workerScript)) {
        const prelude = `URL.createObjectURL = () => ${JSON.stringify(mainScript)}; URL.revokeObjectURL = () => {};\n`;
        writeWhole(workerScript, prelude + source);
      }
      return workerScript;
    }
    return originalCreateObjectURL(blob);
  };

  const started: workerThreads.Worker[] = [];
  let onWorkerExit: (reason: string) => void = () => undefined;
  const workerExited = new Promise<string>((resolve) => (onWorkerExit = resolve));
  const OriginalWorker = workerThreads.Worker;
  class TrackedWorker extends OriginalWorker {
    constructor(filename: string | URL, options?: workerThreads.WorkerOptions) {
      super(filename, options);
      started.push(this);
      this.once('exit', (code) => onWorkerExit(`wasm pool worker ${started.indexOf(this)} exited during start-up (code ${code})`));
    }
  }

  const originalCpus = os.cpus;
  const cpus = (): os.CpuInfo[] => {
    const real = originalCpus();
    return Array.from({ length: threads * 2 }, (_, i) => real[i % real.length]!);
  };

  globalThis.Blob = RecordingBlob;
  URL.createObjectURL = createObjectURL;
  workerThreads.Worker = TrackedWorker;
  os.cpus = cpus;
  try {
    return await init(workerExited);
  } finally {
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreateObjectURL;
    workerThreads.Worker = OriginalWorker;
    os.cpus = originalCpus;
    for (const worker of started) {
      worker.unref();
      // Emscripten re-refs a worker each time it hands it a thread; the pool's threads run forever.
      worker.ref = () => undefined;
    }
  }
}

export function sharedMemoryAvailable(): boolean {
  return typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object';
}
