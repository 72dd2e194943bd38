import { existsSync } from 'node:fs';
import { readDiagnosticsCsv, type DiagnosticsRow } from '../record/diagnostics-csv.js';
import { readConfigJson, runPaths } from '../record/run-folder.js';
import { err, ok, type Result } from '../result.js';
import { resolveRunDirs, shownPath } from './read-run.js';

export interface DiagnosticsRun {
  dir: string;
  /** The config's `name`, when config.json says. */
  name: string | undefined;
  rows: DiagnosticsRow[];
}

const configName = (dir: string): string | undefined => {
  const name = readConfigJson(dir)?.name;
  return typeof name === 'string' ? name : undefined;
};

/** diagnostics.csv of each run folder named (sweep folders stand for their runs); paths resolve against `cwd`. */
export function loadDiagnostics(paths: readonly string[], cwd = process.cwd()): Result<DiagnosticsRun[]> {
  const dirs = resolveRunDirs(paths, cwd);
  if (!dirs.ok) return dirs;
  const runs: DiagnosticsRun[] = [];
  for (const dir of dirs.value) {
    const file = runPaths(dir).diagnostics;
    if (!existsSync(file)) return err(`${shownPath(dir, cwd)}: no diagnostics.csv (run with diagnostics.every set, e.g. --set diagnostics.every=100)`);
    const rows = readDiagnosticsCsv(file, shownPath(file, cwd));
    if (!rows.ok) return rows;
    runs.push({ dir, name: configName(dir), rows: rows.value });
  }
  return ok(runs);
}
