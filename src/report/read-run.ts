import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { configSchema } from '../config/schema.js';
import { err, ok, type Result } from '../result.js';
import { readSweepFile, SWEEP_FILE } from '../record/sweep-file.js';
import { METRICS_COLUMNS, metricsRowSchema, type MetricsRow } from '../record/metrics-csv.js';
import { readConfigJson, runPaths } from '../record/run-folder.js';
import { networkSummarySchema } from '../record/summary.js';
import { firstOrderProblem } from './metrics-order.js';

/** The parts of summary.json the report uses; a missing or unreadable one only costs the parameter counts. */
const summarySchema = z.object({
  networks: z.array(networkSummarySchema.pick({ variant: true, depth: true, params: true })),
});
/** config.json as the runner writes it: the resolved config (what `settingLabels` compares) and its name. */
const configFileSchema = z.object({ name: z.string().optional() }).passthrough();

export interface RunData {
  dir: string;
  /** The config's `name`, when config.json says. */
  name: string | undefined;
  rows: MetricsRow[];
  /** Parameter count per `variant-depth`, from summary.json. */
  params: Map<string, number>;
  /** The resolved config from config.json; empty when it is missing or unreadable. */
  config: Record<string, unknown>;
  /** Things the reader should know about this folder, e.g. a torn last line that was left out. */
  warnings: string[];
}

/** A path as the user would type it: relative when it is under `cwd`, absolute otherwise. */
export function shownPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

export const netKey = (variant: string, depth: number): string => `${variant}-${depth}`;

/**
 * The run folders named on the command line: a run folder (holding metrics.csv) stands for itself; a sweep
 * folder (holding sweep.json) for every folder below it that holds a metrics.csv. Paths resolve against `cwd`.
 */
export function resolveRunDirs(paths: readonly string[], cwd = process.cwd()): Result<string[]> {
  const dirs: string[] = [];
  for (const p of paths) {
    const dir = resolve(cwd, p);
    if (!existsSync(dir)) return err(`${p}: no such folder`);
    if (!statSync(dir).isDirectory()) return err(`${p}: not a folder (give a run folder or a sweep folder)`);
    if (existsSync(runPaths(dir).metrics)) {
      dirs.push(dir);
    } else if (existsSync(join(dir, SWEEP_FILE))) {
      // The sweep's own list of runs: older, abandoned attempts kept beside them are not seeds.
      const sweep = readSweepFile(dir);
      if (!sweep.ok) return err(`${p}: ${sweep.error}`);
      const found = (sweep.value?.runs ?? [])
        .map((run) => resolve(dir, run.folder))
        .filter((runDir) => existsSync(runPaths(runDir).metrics));
      if (found.length === 0) return err(`${p}: sweep folder holds no run with a metrics.csv yet`);
      dirs.push(...found);
    } else {
      return err(`${p}: no metrics.csv here (not a run folder, and no sweep.json: not a sweep folder)`);
    }
  }
  return ok([...new Set(dirs)]);
}

/**
 * Parses and checks metrics.csv of one run folder; the first problem found is the error, naming file and line.
 * A last line with too few cells is a row whose write was cut off (a crash, or a copy taken mid-write): it is
 * left out with a warning rather than making the whole run unreadable.
 */
export function readMetricsCsv(file: string, cwd = process.cwd()): Result<{ rows: MetricsRow[]; warnings: string[] }> {
  const shown = shownPath(file, cwd);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return err(`${shown}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: true, info: true, skip_empty_lines: true, bom: true, relax_column_count_less: true }) as typeof records;
  } catch (e) {
    return err(`${shown}: malformed CSV: ${(e as Error).message.split('\n')[0]}`);
  }
  const warnings: string[] = [];
  const header = records.length > 0 ? Object.keys(records[0].record).length : 0;
  const short = records.findIndex((r) => Object.keys(r.record).length < header);
  if (short >= 0 && short < records.length - 1) {
    return err(`${shown}: line ${records[short].info.lines}: malformed CSV: too few cells`);
  }
  if (short === records.length - 1 && short >= 0) {
    warnings.push(`${shown}: line ${records[short].info.lines} is cut short (a write interrupted?); left out`);
    records.pop();
  }
  if (records.length === 0) return err(`${shown}: no rows yet (a header at most)`);
  const missing = METRICS_COLUMNS.filter((c) => !(c in records[0].record));
  if (missing.length > 0) return err(`${shown}: not a resnet-exp metrics.csv: missing column(s) ${missing.join(', ')}`);
  const rows: { row: MetricsRow; line: number }[] = [];
  for (const { record, info } of records) {
    const parsed = metricsRowSchema.safeParse(record);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return err(`${shown}: line ${info.lines}: column ${issue.path.join('.')}: ${issue.message} (${JSON.stringify(record[String(issue.path[0])])})`);
    }
    rows.push({ row: parsed.data, line: info.lines });
  }
  const disorder = firstOrderProblem(rows);
  if (disorder !== undefined) return err(`${shown}: ${disorder}`);
  return ok({ rows: rows.map((r) => r.row), warnings });
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The config with every key the schema now has, defaults filled in: a run from before a key existed (say
 * `model.block`) ran with its default, and must compare equal on it with a run that states it. A config this
 * version cannot read is compared as written.
 */
function withDefaults(config: Record<string, unknown>): Record<string, unknown> {
  const { run, ...rest } = config;
  const parsed = configSchema.safeParse(rest);
  return parsed.success ? { ...parsed.data, ...(run === undefined ? {} : { run }) } : config;
}

/** A run folder's metrics, and the parameter counts and name its summary and config give when present. */
export function readRun(dir: string, cwd = process.cwd()): Result<RunData> {
  const paths = runPaths(dir);
  const metrics = readMetricsCsv(paths.metrics, cwd);
  if (!metrics.ok) return metrics;
  const params = new Map<string, number>();
  const summary = summarySchema.safeParse(readJson(paths.summary));
  if (summary.success) for (const n of summary.data.networks) params.set(netKey(n.variant, n.depth), n.params);
  const config = configFileSchema.safeParse(readConfigJson(dir));
  return ok({
    dir,
    name: config.success ? config.data.name : undefined,
    rows: metrics.value.rows,
    params,
    config: config.success ? withDefaults(config.data) : {},
    warnings: metrics.value.warnings,
  });
}

/** resolveRunDirs then readRun for each: everything `plot` and `report` read. */
export function loadRuns(paths: readonly string[], cwd = process.cwd()): Result<RunData[]> {
  const dirs = resolveRunDirs(paths, cwd);
  if (!dirs.ok) return dirs;
  const runs: RunData[] = [];
  for (const dir of dirs.value) {
    const run = readRun(dir, cwd);
    if (!run.ok) return run;
    runs.push(run.value);
  }
  return ok(runs);
}
