import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { configSchema, configSeeds, type BackendName, type Config } from '../config/schema.js';
import { formatIssues } from '../config/format-issues.js';
import { METRICS_COLUMNS } from '../report/metrics-csv.js';
import { writeFileAtomic } from '../report/run-folder.js';
import type { RunSummary } from '../report/summary.js';
import { InputError } from '../result.js';
import { latestCheckpoint } from './checkpoint.js';
import { loadData, selectBackend, trainSeeds, type RunRequest } from './run.js';
import { checkSizes } from './size-check.js';

export interface ResumeRequest extends Omit<RunRequest, 'config' | 'force'> {
  runDir: string;
  /** Default: the backend the run was started on, so the continuation computes exactly as the run would have. */
  backend?: BackendName | 'auto';
}

/** The resolved config a run folder was started with. */
export function readRunConfig(runDir: string): { config: Config; backend?: BackendName } {
  const path = join(runDir, 'config.json');
  if (!existsSync(path)) throw new InputError(`${runDir} is not a run folder (no config.json)`);
  let raw: { run?: { backend?: BackendName } } & Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as typeof raw;
  } catch (e) {
    throw new InputError(`${path}: unreadable (${e instanceof Error ? e.message : String(e)})`);
  }
  const { run, ...config } = raw;
  const parsed = configSchema.safeParse(config, { reportInput: true });
  if (!parsed.success) throw new InputError(formatIssues(parsed.error.issues).map((l) => `${path}: ${l}`).join('\n'));
  return { config: parsed.data, backend: run?.backend };
}

/**
 * Drops metrics.csv rows past the checkpoint (and any torn last line), so the continuation appends without
 * duplicated or missing steps.
 */
function truncateMetrics(path: string, seeds: number[], seedIndex: number, step: number): number {
  if (!existsSync(path)) return 0;
  const rows = parse(readFileSync(path, 'utf8'), { columns: true, relax_column_count: true, skip_empty_lines: true }) as Record<string, string>[];
  const keep = rows.filter((row) => {
    if (Object.keys(row).length !== METRICS_COLUMNS.length || row.status === undefined) return false;
    const index = seeds.indexOf(Number(row.seed));
    return index < seedIndex || (index === seedIndex && Number(row.step) <= step);
  });
  writeFileAtomic(path, stringify([[...METRICS_COLUMNS], ...keep.map((row) => METRICS_COLUMNS.map((c) => row[c]))]));
  return rows.length - keep.length;
}

/** Continues a run from its latest complete checkpoint; finishes as the uninterrupted run would have. */
export async function resumeExperiment(req: ResumeRequest): Promise<RunSummary> {
  const runDir = resolve(req.runDir);
  const { log } = req;
  const recorded = readRunConfig(runDir);
  const config: Config = { ...recorded.config, out: runDir, backend: req.backend ?? recorded.backend ?? recorded.config.backend };
  const checkpoint = latestCheckpoint(runDir, (message) => log.warn(message));
  if (!checkpoint) throw new InputError(`${runDir} has no complete checkpoint to resume from; start it again with resnet-exp run`);
  const data = await loadData(config);
  checkSizes(config, { trainImages: data.train.count, validationImages: data.validation.count }, log);
  const backend = await selectBackend(config, log);
  req.logToFile?.(join(runDir, 'log.jsonl'));
  const dropped = truncateMetrics(join(runDir, 'metrics.csv'), configSeeds(config), checkpoint.manifest.seedIndex, checkpoint.manifest.step);
  log.info(
    { runDir, checkpoint: checkpoint.folder, step: checkpoint.manifest.step, dropped },
    `resuming ${runDir} from step ${checkpoint.manifest.step} (seed ${checkpoint.manifest.seed})` + (dropped ? `; dropped ${dropped} rows written after it` : ''),
  );
  return trainSeeds({ config, runDir, backend: backend.name, data, req }, checkpoint);
}
