import type { Logger } from 'pino';
import { chooseBackend } from '../backend/select.js';
import { BACKENDS, type BackendName } from '../config/schema.js';
import { networkId } from '../models/index.js';
import { err, InputError, ok, type Result } from '../result.js';
import { benchNet, peakBytesPerImage, timeSteps, type BenchNet } from './measure.js';
import { fittingMicroBatch, memoryBudget } from './memory.js';
import type { BenchOptions } from './options.js';
import { toRow, type BenchRow } from './row.js';

export interface BenchSkip {
  backend: string;
  /** e.g. `residual-56`, when only that network was skipped. */
  network?: string;
  reason: string;
}

export interface BenchResult {
  rows: BenchRow[];
  skipped: BenchSkip[];
}

/** Images per probe step, for the memory estimate: small enough to be cheap on every backend but cpu. */
const PROBE_BATCH = 4;

const CPU_SKIP =
  "the pure-JS cpu backend takes minutes per step at CIFAR batch sizes (ResNet-20: ~0.16 images/s here); pass --include-cpu or --backend cpu to time it anyway";

/**
 * Times training steps of every requested network on every requested backend. A backend that is asked for by name
 * and can't be used is bad input (thrown); with `auto`/`all`, unusable backends are skipped with the reason.
 */
export async function runBench(o: BenchOptions, log: Logger, onRow?: (row: BenchRow) => void): Promise<BenchResult> {
  const rows: BenchRow[] = [];
  const skipped: BenchSkip[] = [];
  const skip = (s: BenchSkip) => {
    skipped.push(s);
    log.warn(`skipped ${s.backend}${s.network ? ` ${s.network}` : ''}: ${s.reason}`);
  };

  for await (const { backend, threads } of backendsToBench(o, skip)) {
    if (backend === 'cpu') log.warn('cpu: expect minutes per step at batch 128');
    if (backend.startsWith('tensorflow')) log.warn(`${backend}: thread count is TensorFlow's own; --threads is not applied`);
    for (const depth of o.depths) {
      for (const variant of o.variants) {
        const spec = { variant, depth, width: 16, shortcut: 'A' as const };
        const id = networkId(spec);
        const net = benchNet(spec, o.seed);
        try {
          const micro = await microBatchFor(backend, net, o);
          if (!micro.ok) {
            skip({ backend, network: id, reason: micro.error });
            continue;
          }
          if (micro.value < o.batch && o.microBatch === undefined) {
            log.warn(`${backend} ${id}: batch ${o.batch} would not fit in memory; accumulating gradients over micro-batches of ${micro.value} (batch-norm statistics per micro-batch)`);
          }
          log.info(`${backend} ${id}: batch ${o.batch}, ${o.warmup} warm-up + ${o.steps} timed steps`);
          const times = timeSteps(net, { batch: o.batch, microBatch: micro.value, steps: o.steps, warmup: o.warmup, seed: o.seed });
          if (!Number.isFinite(times.lastLoss)) log.warn(`${backend} ${id}: loss is not finite (the update was skipped); times may be off`);
          const row = toRow({
            backend,
            variant,
            depth,
            batch: o.batch,
            threads,
            stepMs: times.stepMs,
            cpuMs: times.cpuMs,
            macsPerImage: net.macsPerImage,
            params: net.params,
            microBatch: micro.value,
          });
          rows.push(row);
          log.info(`${backend} ${id}: ${row.medianMs.toFixed(1)} ms/step, ${row.imagesPerSec.toFixed(1)} images/s, ${row.gflops.toFixed(2)} GFLOP/s`);
          onRow?.(row);
        } finally {
          net.dispose();
        }
      }
    }
  }
  return { rows, skipped };
}

interface Benched {
  backend: BackendName;
  /** What it runs on, as reported by the backend. */
  threads: number;
}

/** Makes each backend to bench current in turn (with its thread count set), skipping those that can't be used. */
async function* backendsToBench(o: BenchOptions, skip: (s: BenchSkip) => void): AsyncGenerator<Benched> {
  if (o.backend !== 'auto' && o.backend !== 'all') {
    const used = await useBackend(o.backend, o.threads);
    if (!used.ok) throw new InputError(used.error);
    yield used.value;
    return;
  }
  // `auto` is chooseBackend('auto') one backend at a time, so each gets its thread count before it initialises.
  for (const name of BACKENDS) {
    if (name === 'cpu' && !o.includeCpu) {
      skip({ backend: name, reason: CPU_SKIP });
      continue;
    }
    const used = await useBackend(name, o.threads);
    if (!used.ok) {
      skip({ backend: name, reason: used.error });
      continue;
    }
    yield used.value;
    if (o.backend === 'auto') return;
  }
}

async function useBackend(name: BackendName, threads: number): Promise<Result<Benched, string>> {
  const chosen = await chooseBackend(name, { count: threads, adaptive: false });
  if (!chosen.ok) return err(chosen.error);
  // The cpu backend's kernels are JavaScript on the main thread; TensorFlow's backends report no count of ours.
  return ok({ backend: name, threads: chosen.value.threads?.count ?? (name === 'cpu' ? 1 : threads) });
}

/**
 * The batch as asked, or (when it would not fit: wasm's 2 GiB heap) the largest even slice that does, from one
 * profiled step at a small batch. cpu is not probed: a probe step alone takes a minute there, and its memory is
 * the process's.
 */
async function microBatchFor(backend: BackendName, net: BenchNet, o: BenchOptions): Promise<Result<number, string>> {
  if (o.microBatch !== undefined) return ok(Math.min(o.microBatch, o.batch));
  if (backend === 'cpu') return ok(o.batch);
  const perImage = await peakBytesPerImage(net, Math.min(PROBE_BATCH, o.batch), o.seed);
  const budget = memoryBudget(backend);
  const fit = fittingMicroBatch(o.batch, perImage, budget);
  if (fit === undefined) {
    return err(`one image needs ~${mib(perImage)} MiB, over the ${mib(budget)} MiB ${backend} can give a step`);
  }
  return ok(fit);
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
