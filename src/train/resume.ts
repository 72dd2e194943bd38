import { resolve } from 'node:path';
import { configSeeds, type BackendName, type Config } from '../config/schema.js';
import { readRunConfig, readSummary, RunFolder } from '../record/run-folder.js';
import type { RunSummary } from '../record/summary.js';
import { InputError } from '../result.js';
import { latestCheckpoint } from './checkpoint.js';
import { loadData, selectBackend, trainSeeds, type RunRequest } from './run.js';

export { readRunConfig };

export interface ResumeRequest extends Omit<RunRequest, 'config' | 'force'> {
  runDir: string;
  /** Default: the backend the run was started on, so the continuation computes exactly as the run would have. */
  backend?: BackendName | 'auto';
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
    const checkpoint = latestCheckpoint(runDir, (message) => log.warn(message));
    if (!checkpoint) throw new InputError(`${runDir} has no complete checkpoint to resume from; start it again with resnet-exp run`);
    const data = await loadData(config);
    const backend = await selectBackend(config, log);
    folder.adopt();
    req.logToFile?.(folder.openLog());
    const dropped = folder.truncateAfter(configSeeds(config), checkpoint.manifest).metrics;
    log.info(
      { runDir, checkpoint: checkpoint.folder, step: checkpoint.manifest.step, dropped },
      `resuming ${runDir} from step ${checkpoint.manifest.step} (seed ${checkpoint.manifest.seed})` + (dropped ? `; dropped ${dropped} rows written after it` : ''),
    );
    return await trainSeeds({ config, folder, backend: backend.name, data, req }, checkpoint);
  } finally {
    folder.release();
  }
}
