import type { Logger } from 'pino';
import { chooseBackend, type BackendChoice } from '../backend/select.js';
import { planThreads, type ThreadPlan } from '../backend/threads.js';
import type { BackendName } from '../config/schema.js';
import { configSeeds, type Config } from '../config/schema.js';
import { BatchSampler, loadDataset, type LoadedData } from '../data/index.js';
import type { FileOps } from '../record/durable.js';
import type { LogFile } from '../record/log-file.js';
import type { MetricsRow } from '../record/metrics-csv.js';
import { gitCommit, packageVersion } from '../record/provenance.js';
import { defaultRunDir, RunFolder } from '../record/run-folder.js';
import type { NetworkSummary, RunSummary } from '../record/summary.js';
import { InputError } from '../result.js';
import { buildTrainees, trainLockstep, type Trainee } from './lockstep.js';
import { restoreTrainees, writeCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { openDiagnostics } from './diagnostics.js';
import { runIdentity, type RunIdentity } from './run-identity.js';
import { checkSizes } from './size-check.js';
import { summarizeTrainee } from './summarize.js';

export interface RunRequest {
  config: Config;
  /** Overwrite a run folder that already holds a run. */
  force?: boolean;
  log: Logger;
  /** Adds the run folder's log.jsonl to the logger once the folder exists. */
  logToFile?(file: LogFile): void;
  onStep?(step: number, trainees: readonly Trainee[]): void;
  shouldStop?(): boolean;
  /** How the run folder's files are written; tests put a failing disk here. */
  files?: FileOps;
}

export type { LoadedData };

/** The config's data set; decoding and caching an image folder is narrated on `log`. */
export const loadData = (config: Config, log?: Logger): Promise<LoadedData> => loadDataset(config.data, config.seed, (line) => log?.info(line));

/** A new run's threads: the config's count, `adaptive`, or what the machine offers (OMP_NUM_THREADS, else its cores). */
export function newRunThreads(config: Config): ThreadPlan {
  const plan = planThreads(config.threads);
  if (!plan.ok) throw new InputError(plan.error);
  return plan.value;
}

/** Chooses the backend and fixes its thread count for the whole run (`threads`: see newRunThreads, or the recorded plan on resume). */
export async function selectBackend(config: Config, threads: ThreadPlan, log: Logger): Promise<BackendChoice> {
  const choice = await chooseBackend(config.backend, threads);
  if (!choice.ok) throw new InputError(choice.error);
  const { name, skipped, threads: used, waitPolicy, threadsNote } = choice.value;
  const skippedText = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  const threadsText = used ? `, ${used.count} thread${used.count === 1 ? '' : 's'}${used.adaptive ? ' adapting to load (not bit-reproducible)' : ''}` : '';
  log.info({ backend: name, skipped, threads: used, waitPolicy }, `backend: ${name}${threadsText}${skippedText ? ` (skipped ${skippedText})` : ''}`);
  if (threadsNote) log.warn(threadsNote);
  // Sums split over a different number of threads round differently: the log says when the count changed.
  choice.value.onThreadChange?.((from, to) => log.info({ threads: to, from }, `${name} threads: ${from} → ${to} (other processes' load changed)`));
  return choice.value;
}

/**
 * A whole run: backend, data, run folder, lockstep training, summary. Bad input (config, data, folder) is thrown
 * as InputError before any training starts; a file that can't be written fails the run with a WriteError.
 */
export async function runExperiment(req: RunRequest): Promise<RunSummary> {
  const { config } = req;
  // Cheap checks of the user's input first: threads, data, then the run folder, then the backend.
  const threads = newRunThreads(config);
  const data = await loadData(config, req.log);
  checkSizes(config, { trainImages: data.train.count, validationImages: data.validation.count, input: data.input }, req.log);
  const folder = RunFolder.create(config.out ?? defaultRunDir(config.name), { force: req.force, ops: req.files });
  try {
    return await startRun(req, threads, data, folder);
  } finally {
    folder.release();
  }
}

async function startRun(req: RunRequest, threads: ThreadPlan, data: LoadedData, folder: RunFolder): Promise<RunSummary> {
  const { config, log } = req;
  const runDir = folder.dir;
  const backend = await selectBackend(config, threads, log);
  req.logToFile?.(folder.openLog());
  const recorded = {
    ...config,
    out: runDir,
    run: {
      backend: backend.name,
      backendsSkipped: backend.skipped,
      threads: backend.threads ?? null,
      version: packageVersion(),
      commit: gitCommit() ?? null,
      data: data.source,
      trainImages: data.train.count,
      classes: data.input.classes,
      input: [data.input.height, data.input.width],
      validationImages: Math.min(data.validation.count, config.data.validationLimit ?? data.validation.count),
      started: new Date().toISOString(),
    },
  };
  folder.writeConfig(recorded);
  log.info({ runDir, ...recorded.run }, `run folder: ${runDir}`);
  return trainSeeds({ config, folder, backend: backend.name, data, req, identity: runIdentity(config, recorded.run) });
}

export interface TrainContext {
  config: Config;
  folder: RunFolder;
  backend: BackendName;
  data: LoadedData;
  req: Pick<RunRequest, 'log' | 'onStep' | 'shouldStop'>;
  /** What config.json fixed at the start; each checkpoint carries it so resume can tell if config.json was edited. */
  identity: RunIdentity;
}

/**
 * Trains every seed of the config in turn (each repeats the whole comparison with its own weights, order and
 * crops), from the start or from a checkpoint, writing rows, checkpoints and finally summary.json.
 */
export async function trainSeeds(ctx: TrainContext, from?: LoadedCheckpoint): Promise<RunSummary> {
  const { config, folder, data, req } = ctx;
  const { log } = req;
  const csv = folder.metrics();
  const onRows = (rows: MetricsRow[]) => {
    csv.append(rows);
    for (const r of rows) {
      if (r.test_error !== null) {
        log.info(r, `${r.variant}-${r.depth} seed ${r.seed} step ${r.step}: train error ${r.train_error?.toFixed(4)}, test error ${r.test_error.toFixed(4)}`);
      } else {
        log.debug(r, 'row');
      }
    }
  };
  // Undefined when diagnostics are off: no file, no hook, nothing added to the training loop.
  const diagnostics = openDiagnostics({ folder, config, train: data.train, validation: data.validation });
  const seeds = configSeeds(config);
  const networks: NetworkSummary[] = [...(from?.manifest.completed ?? [])];
  const firstSeed = from?.manifest.seedIndex ?? 0;
  let steps = firstSeed * config.train.iterations;
  let interrupted = false;
  let wallSeconds = 0;
  for (let seedIndex = firstSeed; seedIndex < seeds.length && !interrupted; seedIndex++) {
    const seed = seeds[seedIndex];
    const seedConfig = { ...config, seed };
    const trainees = buildTrainees(seedConfig, data.input);
    let resume: { step: number; sampler: BatchSampler } | undefined;
    if (from && seedIndex === firstSeed) {
      const restored = restoreTrainees(trainees, from);
      const sampler = BatchSampler.fromState(from.manifest.sampler);
      if (!restored.ok) throw new InputError(restored.error);
      if (!sampler.ok) throw new InputError(`checkpoint ${from.folder}: ${sampler.error}`);
      resume = { step: from.manifest.step, sampler: sampler.value };
    }
    const result = await trainLockstep(
      {
        config: seedConfig,
        train: data.train,
        validation: data.validation,
        log,
        onRows,
        onStep: req.onStep,
        shouldStop: req.shouldStop,
        resume,
        onRowPoint: diagnostics?.(seed),
        onCheckpoint: (state) => {
          const written = writeCheckpoint({ folder, seedIndex, seed, completed: networks, keep: config.checkpoint.keep, identity: ctx.identity }, state);
          log.debug({ folder: written, step: state.step }, 'checkpoint written');
        },
      },
      trainees,
    );
    networks.push(...result.trainees.map((t) => ({ seed, ...summarizeTrainee(t) })));
    steps += result.steps;
    wallSeconds += result.wallSeconds;
    interrupted = result.interrupted;
    for (const t of result.trainees) {
      t.net.params.dispose();
      t.sgd.dispose();
    }
  }

  const summary: RunSummary = {
    name: config.name,
    run_dir: folder.dir,
    backend: ctx.backend,
    seeds,
    iterations: config.train.iterations,
    steps_completed: steps,
    status: interrupted ? 'interrupted' : 'completed',
    wall_seconds: wallSeconds,
    networks,
  };
  folder.writeSummary(summary);
  return summary;
}
