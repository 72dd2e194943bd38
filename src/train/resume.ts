import { resolve } from 'node:path';
import { configSeeds, type BackendName, type Config } from '../config/schema.js';
import { readRunConfig as readRecordedConfig, readSummary, RunFolder } from '../record/run-folder.js';
import type { RunSummary } from '../record/summary.js';
import { InputError } from '../result.js';
import { latestCheckpoint, type RunRecord } from './checkpoint.js';
import { runIdentity } from './run-identity.js';
import { loadData, selectBackend, trainSeeds, type RunRequest } from './run.js';

export interface ResumeRequest extends Omit<RunRequest, 'config' | 'force'> {
  runDir: string;
  /** Default: the backend the run was started on, so the continuation computes exactly as the run would have. */
  backend?: BackendName | 'auto';
}

/** The resolved config a run folder was started with, and its identity for comparing with its checkpoints'. */
export function readRunConfig(runDir: string): RunRecord & { backend?: BackendName } {
  const { config, backend, run } = readRecordedConfig(runDir);
  return { config, backend, identity: runIdentity(config, run) };
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
    const backend = await selectBackend(config, log);
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
