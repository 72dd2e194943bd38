import { resolve } from 'node:path';
import type { ThreadPlan } from '../backend/threads.js';
import { configSeeds, type BackendName, type Config } from '../config/schema.js';
import { readRunConfig as readRecordedConfig, readSummary, RunFolder } from '../record/run-folder.js';
import type { RunSummary } from '../record/summary.js';
import { InputError } from '../result.js';
import { latestCheckpoint, type RunRecord } from './checkpoint.js';
import { runIdentity } from './run-identity.js';
import { loadData, newRunThreads, selectBackend, trainSeeds, type RunRequest } from './run.js';
import { checkSizes } from './size-check.js';

export interface ResumeRequest extends Omit<RunRequest, 'config' | 'force'> {
  runDir: string;
  /** Default: the backend the run was started on, so the continuation computes exactly as the run would have. */
  backend?: BackendName | 'auto';
}

export interface RecordedRun extends RunRecord {
  backend?: BackendName;
  /** The thread count the run started on (absent: a backend without one of ours, or a run from before it was recorded). */
  threadCount?: number;
}

/** The resolved config a run folder was started with, what it ran on, and its identity for comparing with its checkpoints'. */
export function readRunConfig(runDir: string): RecordedRun {
  const { config, backend, run } = readRecordedConfig(runDir);
  const threads = run?.threads as { count?: unknown } | null | undefined;
  const count = threads?.count;
  if (count !== undefined && !(typeof count === 'number' && Number.isInteger(count) && count >= 1)) {
    throw new InputError(`${runDir}/config.json: run.threads.count: expected a positive whole number, got ${JSON.stringify(count)}`);
  }
  return { config, backend, identity: runIdentity(config, run), ...(count !== undefined ? { threadCount: count } : {}) };
}

/**
 * The continuation computes on the count the run started with, whatever this machine or OMP_NUM_THREADS offers now:
 * another count would round the rest of the curve differently. Adaptive only when the run's config asked for it.
 */
function resumedThreads(recorded: RecordedRun): ThreadPlan {
  if (recorded.threadCount === undefined) return newRunThreads(recorded.config);
  return { count: recorded.threadCount, adaptive: recorded.config.threads === 'adaptive' };
}

/**
 * Continues a run from its latest complete checkpoint; finishes as the uninterrupted run would have. A run
 * that already completed is left exactly as it is: its summary is returned.
 */
export async function resumeExperiment(req: ResumeRequest): Promise<RunSummary> {
  const runDir = resolve(req.runDir);
  const { log } = req;
  const recorded = readRunConfig(runDir);
  const config: Config = { ...recorded.config, out: runDir, backend: req.backend ?? recorded.backend ?? recorded.config.backend };
  const folder = RunFolder.open(runDir, { ops: req.files });
  try {
    const summary = readSummary(runDir);
    if (summary?.status === 'completed') {
      log.info({ runDir }, `${runDir} completed already (summary.json); nothing to resume, nothing changed`);
      return summary;
    }
    const found = latestCheckpoint(runDir, recorded, (message) => log.warn(message));
    if (!found.ok) throw new InputError(found.error);
    const checkpoint = found.value;
    if (!checkpoint) throw new InputError(`${runDir} has no complete checkpoint to resume from; start it again with resnet-exp run`);
    const data = await loadData(config, log);
    checkSizes(config, { trainImages: data.train.count, validationImages: data.validation.count, input: data.input }, log);
    const backend = await selectBackend(config, resumedThreads(recorded), log);
    folder.adopt();
    req.logToFile?.(folder.openLog());
    const dropped = folder.truncateAfter(configSeeds(config), checkpoint.manifest).metrics;
    log.info(
      { runDir, checkpoint: checkpoint.folder, step: checkpoint.manifest.step, dropped },
      `resuming ${runDir} from step ${checkpoint.manifest.step} (seed ${checkpoint.manifest.seed})` + (dropped ? `; dropped ${dropped} rows written after it` : ''),
    );
    return await trainSeeds({ config, folder, backend: backend.name, data, req, identity: recorded.identity }, checkpoint);
  } finally {
    folder.release();
  }
}
