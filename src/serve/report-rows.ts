import { FINAL_WINDOW } from '../report/aggregate.js';
import type { MetricsRow } from '../record/metrics-csv.js';
import { netKey } from '../report/read-run.js';

/** One network of one seed: the rows the report reads of it, kept as they stream in. */
interface Kept {
  /** Its latest row: status, and where it stopped. */
  last: MetricsRow;
  /** Its lowest test error, at the first step reached (a later equal one does not replace it). */
  best: MetricsRow | undefined;
  /** Its latest evaluation. */
  lastEval: MetricsRow | undefined;
  /**
   * Step and train_error of its rows inside the final window: what the final training error averages (a row
   * before the window covers none of it, whatever its step). Columns, to stay small.
   */
  steps: number[];
  trainErrors: (number | null)[];
  /** Rows of `steps` that the window has left, dropped on the next compaction. */
  head: number;
}

/**
 * Keeps, of a run's metrics rows as they stream in, only those that `report` (aggregate.ts) reads: each
 * network's last row, best and last evaluation, and the rows inside the last FINAL_WINDOW of its seed's steps.
 * `rows()` then gives a report identical to the one of every row, in memory that grows with the window, not the
 * file. Rows must come in file order (each network's steps rising), as the runner writes them.
 */
export class ReportRows {
  private readonly kept = new Map<string, Kept>();
  /** The last step any network of a seed reached: aggregate's `run_last_step`, which sets the window. */
  private readonly lastStep = new Map<number, number>();
  private count = 0;

  /** Rows seen so far. */
  get seen(): number {
    return this.count;
  }

  /** Per seed, the last step any of its networks reached. */
  lastSteps(): ReadonlyMap<number, number> {
    return this.lastStep;
  }

  add(rows: readonly MetricsRow[]): void {
    for (const row of rows) {
      this.count++;
      const key = `${row.seed}\u0000${netKey(row.variant, row.depth)}`;
      let k = this.kept.get(key);
      if (!k) {
        k = { last: row, best: undefined, lastEval: undefined, steps: [], trainErrors: [], head: 0 };
        this.kept.set(key, k);
      }
      k.last = row;
      if (row.test_error !== null && Number.isFinite(row.test_error)) {
        k.lastEval = row;
        if (k.best === undefined || row.test_error < (k.best.test_error as number)) k.best = row;
      }
      k.steps.push(row.step);
      k.trainErrors.push(row.train_error);
      if (row.step > (this.lastStep.get(row.seed) ?? 0)) this.lastStep.set(row.seed, row.step);
    }
    for (const [key, k] of this.kept) this.prune(k, this.lastStep.get(Number(key.slice(0, key.indexOf('\u0000')))) ?? 0);
  }

  /** Drops the rows that a grown run left before the window. */
  private prune(k: Kept, lastStep: number): void {
    const cutoff = lastStep * (1 - FINAL_WINDOW);
    while (k.head < k.steps.length && k.steps[k.head] <= cutoff) k.head++;
    if (k.head > 1024 && k.head * 2 > k.steps.length) {
      k.steps.splice(0, k.head);
      k.trainErrors.splice(0, k.head);
      k.head = 0;
    }
  }

  /** The kept rows, each network's in step order: what readRun would give, less rows no statistic reads. */
  rows(): MetricsRow[] {
    const out: MetricsRow[] = [];
    for (const k of this.kept.values()) {
      const real = new Map<number, MetricsRow>();
      for (const r of [k.best, k.lastEval, k.last]) if (r) real.set(r.step, r);
      const rows = new Map<number, MetricsRow>();
      for (let i = k.head; i < k.steps.length; i++) {
        const step = k.steps[i];
        // Only step and train_error are read of a window row; the rest is the last row's, with no evaluation.
        rows.set(step, real.get(step) ?? { ...k.last, step, train_error: k.trainErrors[i], test_error: null, test_loss: null, status: 'training' });
      }
      for (const r of real.values()) rows.set(r.step, r);
      out.push(...[...rows.values()].sort((a, b) => a.step - b.step));
    }
    return out;
  }
}
