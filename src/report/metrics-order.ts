import type { MetricsRow } from '../record/metrics-csv.js';

/**
 * The first row that breaks a network's sequence, as "line N: what": each (seed, variant, depth) logs at strictly
 * increasing steps and stops at its `done` or `diverged` row. A repeated step (two writers in one folder, rows
 * pasted twice) would otherwise count as a second seed's worth of curve.
 */
export function firstOrderProblem(rows: readonly { row: MetricsRow; line: number }[]): string | undefined {
  const last = new Map<string, { step: number; line: number; status: MetricsRow['status'] }>();
  for (const { row, line } of rows) {
    const key = `${row.variant}-${row.depth} seed ${row.seed}`;
    const before = last.get(key);
    if (before && before.status !== 'training') return `line ${line}: ${key} has a row after its ${before.status} row (line ${before.line})`;
    if (before && row.step <= before.step) {
      return `line ${line}: ${key} at step ${row.step} ${row.step === before.step ? 'repeats' : 'goes back from'} step ${before.step} (line ${before.line}); steps must increase`;
    }
    last.set(key, { step: row.step, line, status: row.status });
  }
  return undefined;
}
