import type { Logger } from 'pino';
import { chooseBackend, type BackendChoice } from '../backend/select.js';
import type { BackendName } from '../config/schema.js';
import { configSeeds, type Config } from '../config/schema.js';
import { BatchSampler, loadCifar10, syntheticCifar, type ImageSet } from '../data/index.js';
import { locateCifar10 } from '../data/locate.js';
import { MetricsCsv, type MetricsRow } from '../report/metrics-csv.js';
import { defaultRunDir, gitCommit, packageVersion, prepareRunDir, writeFileAtomic } from '../report/run-folder.js';
import { summarizeTrainee, type NetworkSummary, type RunSummary } from '../report/summary.js';
import { InputError } from '../result.js';
import { join } from 'node:path';
import { buildTrainees, trainLockstep, type Trainee } from './lockstep.js';
import { restoreTrainees, writeCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { openDiagnostics } from './diagnostics.js';
import { checkSizes } from './size-check.js';

export interface RunRequest {
  config: Config;
  /** Overwrite a run folder that already holds a run. */
  force?: boolean;
  log: Logger;
  /** Adds the run folder's log.jsonl to the logger once the folder exists. */
  logToFile?(path: string): void;
  onStep?(step: number, trainees: readonly Trainee[]): void;
  shouldStop?(): boolean;
}

export interface LoadedData {
  train: ImageSet;
  validation: ImageSet;
  /** What was read, for config.json. */
  source: string[];
}

export async function loadData(config: Config): Promise<LoadedData> {
  if (config.data.source === 'synthetic') {
    const { train, validation } = syntheticCifar(config.seed, config.data.synthetic);
    return { train, validation, source: [`synthetic(seed=${config.seed})`] };
  }
  const dir = locateCifar10(config.data.dir);
  const loaded = await loadCifar10(dir, { trainLimit: config.data.trainLimit, validation: config.data.validation });
  if (!loaded.ok) throw new InputError(loaded.error);
  return { train: loaded.value.train, validation: loaded.value.validation, source: loaded.value.files };
}

export async function selectBackend(config: Config, log: Logger): Promise<BackendChoice> {
  const choice = await chooseBackend(config.backend);
  if (!choice.ok) throw new InputError(choice.error);
  const skipped = choice.value.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  log.info({ backend: choice.value.name, skipped: choice.value.skipped }, `backend: ${choice.value.name}${skipped ? ` (skipped ${skipped})` : ''}`);
  if (choice.value.name === 'onednn') {
    // Sums split over a different number of threads round differently: the log says when the count changed.
    const { setOnednnThreadListener } = await import('../backend/onednn.js');
    setOnednnThreadListener((from, to) => log.info({ threads: to, from }, `onednn threads: ${from} → ${to} (other processes' load changed)`));
  }
  return choice.value;
}

/**
 * A whole run: backend, data, run folder, lockstep training, summary. Bad input (config, data, folder) is thrown
 * as InputError before any training starts.
 */
export async function runExperiment(req: RunRequest): Promise<RunSummary> {
  const { config, log } = req;
  // Cheap checks of the user's input first: data, then the run folder, then the backend.
  const data = await loadData(config);
  checkSizes(config, { trainImages: data.train.count, validationImages: data.validation.count }, log);
  const runDir = config.out ?? defaultRunDir(config.name);
  prepareRunDir(runDir, req.force ?? false);
  const backend = await selectBackend(config, log);
  req.logToFile?.(join(runDir, 'log.jsonl'));
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
      validationImages: Math.min(data.validation.count, config.data.validationLimit ?? data.validation.count),
      started: new Date().toISOString(),
    },
  };
  writeFileAtomic(join(runDir, 'config.json'), `${JSON.stringify(recorded, null, 2)}\n`);
  log.info({ runDir, ...recorded.run }, `run folder: ${runDir}`);
  return trainSeeds({ config, runDir, backend: backend.name, data, req });
}

export interface TrainContext {
  config: Config;
  runDir: string;
  backend: BackendName;
  data: LoadedData;
  req: Pick<RunRequest, 'log' | 'onStep' | 'shouldStop'>;
}

/**
 * Trains every seed of the config in turn (each repeats the whole comparison with its own weights, order and
 * crops), from the start or from a checkpoint, writing rows, checkpoints and finally summary.json.
 */
export async function trainSeeds(ctx: TrainContext, from?: LoadedCheckpoint): Promise<RunSummary> {
  const { config, runDir, data, req } = ctx;
  const { log } = req;
  const csv = new MetricsCsv(join(runDir, 'metrics.csv'));
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
  const diagnostics = openDiagnostics({ runDir, config, train: data.train, validation: data.validation }, from?.manifest);
  const seeds = configSeeds(config);
  const networks: NetworkSummary[] = [...(from?.manifest.completed ?? [])];
  const firstSeed = from?.manifest.seedIndex ?? 0;
  let steps = firstSeed * config.train.iterations;
  let interrupted = false;
  let wallSeconds = 0;
  for (let seedIndex = firstSeed; seedIndex < seeds.length && !interrupted; seedIndex++) {
    const seed = seeds[seedIndex];
    const seedConfig = { ...config, seed };
    const trainees = buildTrainees(seedConfig);
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
          const folder = writeCheckpoint({ runDir, seedIndex, seed, completed: networks, keep: config.checkpoint.keep }, state);
          log.debug({ folder, step: state.step }, 'checkpoint written');
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
    run_dir: runDir,
    backend: ctx.backend,
    seeds,
    iterations: config.train.iterations,
    steps_completed: steps,
    status: interrupted ? 'interrupted' : 'completed',
    wall_seconds: wallSeconds,
    networks,
  };
  writeFileAtomic(join(runDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
