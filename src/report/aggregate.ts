import { VARIANTS } from '../config/schema.js';
import type { MetricsRow, RowStatus } from '../record/metrics-csv.js';
import { netKey, shownPath, type RunData } from './read-run.js';
import { settingLabels } from './setting.js';

/** The share of the run, at its end, that "final training error" averages over (as the PyTorch reference did). */
export const FINAL_WINDOW = 0.1;

/** Over seeds. `std` is the sample standard deviation (n − 1); null with fewer than two values. */
export interface Stat {
  mean: number | null;
  std: number | null;
  values: number[];
}

/** One network (variant, depth) trained once: one seed of one run folder. */
export interface Replicate {
  run_dir: string;
  seed: number;
  variant: string;
  depth: number;
  /** The settings its run differs in from the other runs reported with it; null when they all share one. */
  setting: string | null;
  /** From its run's summary.json; null without one. */
  params: number | null;
  /** The status of its last row: done, training (still running or interrupted), diverged. */
  status: RowStatus;
  rows: MetricsRow[];
  /** The last step any network of this run and seed reached: where "final" is measured from. */
  run_last_step: number;
}

export interface NetworkReport {
  variant: string;
  depth: number;
  /** See Replicate.setting: networks of different settings are never pooled. */
  setting: string | null;
  /** Seeds counted: finished ones (done or diverged), and unfinished ones only when asked to include them. */
  seeds: number;
  seed_list: number[];
  params: number | null;
  /** Seeds that diverged: counted, but left out of every error statistic. */
  diverged: number;
  /** Seeds whose last row is not the run's end (still running, or interrupted and not resumed). */
  unfinished: number;
  final_train_error: Stat;
  final_test_error: Stat;
  best_test_error: Stat;
  best_test_step: Stat;
}

/** The schema's order: plain, residual, the 2016 paper's shortcuts and activation orders, full pre-activation. */
const VARIANT_ORDER: readonly string[] = VARIANTS;
const variantRank = (v: string): number => {
  const i = VARIANT_ORDER.indexOf(v);
  return i < 0 ? VARIANT_ORDER.length : i;
};
export const byVariantThenDepth = (a: { variant: string; depth: number }, b: { variant: string; depth: number }): number =>
  variantRank(a.variant) - variantRank(b.variant) || a.variant.localeCompare(b.variant) || a.depth - b.depth;

export function stat(values: readonly (number | null)[]): Stat {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { mean: null, std: null, values: [] };
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const std = xs.length < 2 ? null : Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
  return { mean, std, values: xs };
}

/** Splits every run into one curve per (seed, variant, depth), rows in step order. */
export function replicates(runs: readonly RunData[]): Replicate[] {
  const out: Replicate[] = [];
  const settings = settingLabels(runs.map((r) => r.config));
  for (const [i, run] of runs.entries()) {
    const groups = new Map<string, MetricsRow[]>();
    const lastStep = new Map<number, number>();
    for (const row of run.rows) {
      const key = `${row.seed}\u0000${netKey(row.variant, row.depth)}`;
      const rows = groups.get(key) ?? [];
      rows.push(row);
      groups.set(key, rows);
      lastStep.set(row.seed, Math.max(lastStep.get(row.seed) ?? 0, row.step));
    }
    for (const rows of groups.values()) {
      rows.sort((a, b) => a.step - b.step);
      const last = rows[rows.length - 1];
      out.push({
        run_dir: run.dir,
        seed: last.seed,
        variant: last.variant,
        depth: last.depth,
        setting: settings[i],
        params: run.params.get(netKey(last.variant, last.depth)) ?? null,
        status: last.status,
        rows,
        run_last_step: lastStep.get(last.seed) ?? last.step,
      });
    }
  }
  return out;
}

/**
 * Mean training error over the last FINAL_WINDOW of the run's iterations. Each row's train_error is the
 * error over the batches since the previous row, so a row is weighted by the steps it covers inside the window
 * (a row straddling the window's start counts with its steps after it). A single batch's error is too noisy to
 * compare nets by, and an average over the whole run would mix in the early, fast-falling part of the curve.
 * Null for a diverged network: its last row holds the diverging step, and its earlier rows are not "final".
 */
export function finalTrainError(r: Replicate): number | null {
  if (r.status === 'diverged') return null;
  const cutoff = r.run_last_step * (1 - FINAL_WINDOW);
  let weighted = 0;
  let steps = 0;
  let previous = 0;
  for (const row of r.rows) {
    const covered = row.step - Math.max(previous, cutoff);
    previous = row.step;
    if (covered <= 0 || row.train_error === null || !Number.isFinite(row.train_error)) continue;
    weighted += row.train_error * covered;
    steps += covered;
  }
  return steps > 0 ? weighted / steps : null;
}

/** Evaluated rows; none for a diverged network, whose evaluations before it diverged are not its result. */
const evaluated = (r: Replicate): (MetricsRow & { test_error: number })[] =>
  r.status === 'diverged' ? [] : r.rows.filter((row): row is MetricsRow & { test_error: number } => row.test_error !== null && Number.isFinite(row.test_error));

/** Test error at the last evaluation. */
export function finalTestError(r: Replicate): number | null {
  const rows = evaluated(r);
  return rows.length > 0 ? rows[rows.length - 1].test_error : null;
}

/** Lowest test error and the first step it was reached. */
export function bestTestError(r: Replicate): { error: number; step: number } | null {
  let best: { error: number; step: number } | null = null;
  for (const row of evaluated(r)) if (best === null || row.test_error < best.error) best = { error: row.test_error, step: row.step };
  return best;
}

export interface Aggregate {
  networks: NetworkReport[];
  /** Things the reader should know, e.g. the same seed of a network found in two run folders. */
  warnings: string[];
}

export const labelOf = (n: { variant: string; depth: number; setting: string | null }): string =>
  `${netKey(n.variant, n.depth)}${n.setting === null ? '' : ` [${n.setting}]`}`;

/** One warning per unfinished replicate: a seed still running, or interrupted and not resumed. */
export function unfinishedWarnings(reps: readonly Replicate[], included: boolean, cwd = process.cwd()): string[] {
  return reps
    .filter((r) => r.status === 'training')
    .map(
      (r) =>
        `${labelOf(r)} seed ${r.seed} in ${shownPath(r.run_dir, cwd)} is unfinished (last row at step ${r.rows[r.rows.length - 1].step}: ` +
        `still running, or interrupted: resnet-exp resume); ${included ? 'included as if it had ended there' : 'left out'}`,
    );
}

export interface AggregateOptions {
  /** Count seeds that have not reached their run's end, measuring "final" at their last row. */
  includeUnfinished?: boolean;
}

export function aggregate(runs: readonly RunData[], cwd = process.cwd(), options: AggregateOptions = {}): Aggregate {
  const all = replicates(runs);
  const warnings: string[] = [...runs.flatMap((r) => r.warnings), ...unfinishedWarnings(all, options.includeUnfinished === true, cwd)];
  const byNet = new Map<string, Replicate[]>();
  for (const r of all) {
    if (r.status === 'training' && !options.includeUnfinished) continue;
    const key = labelOf(r);
    byNet.set(key, [...(byNet.get(key) ?? []), r]);
  }
  const networks: NetworkReport[] = [];
  for (const [key, reps] of byNet) {
    const { variant, depth, setting } = reps[0];
    const seen = new Map<number, string[]>();
    for (const r of reps) seen.set(r.seed, [...(seen.get(r.seed) ?? []), shownPath(r.run_dir, cwd)]);
    for (const [seed, dirs] of seen) {
      if (dirs.length > 1) warnings.push(`${key} seed ${seed} is in ${dirs.length} run folders (${dirs.join(', ')}); each counts as a seed`);
    }
    const best = reps.map(bestTestError);
    networks.push({
      variant,
      depth,
      setting,
      seeds: reps.length,
      seed_list: reps.map((r) => r.seed),
      params: reps.find((r) => r.params !== null)?.params ?? null,
      diverged: reps.filter((r) => r.status === 'diverged').length,
      unfinished: reps.filter((r) => r.status === 'training').length,
      final_train_error: stat(reps.map(finalTrainError)),
      final_test_error: stat(reps.map(finalTestError)),
      best_test_error: stat(best.map((b) => b?.error ?? null)),
      best_test_step: stat(best.map((b) => b?.step ?? null)),
    });
  }
  networks.sort((a, b) => (a.setting ?? '').localeCompare(b.setting ?? '') || byVariantThenDepth(a, b));
  return { networks, warnings };
}

export type CurveMetric = 'error' | 'loss';
export type Split = 'train' | 'test';

/** One point of a seed-averaged curve, with the seeds' range for the band. */
export interface CurvePoint {
  variant: string;
  depth: number;
  split: Split;
  step: number;
  mean: number;
  min: number;
  max: number;
  /** Seeds with a value at this step. */
  n: number;
}

const column = (metric: CurveMetric, split: Split): keyof MetricsRow => `${split}_${metric}` as keyof MetricsRow;

/** Curves averaged over seeds, step by step; a seed without a (finite) value at a step is left out there. */
export function curves(runs: readonly RunData[], metric: CurveMetric): CurvePoint[] {
  const points = new Map<string, { variant: string; depth: number; split: Split; step: number; values: number[] }>();
  for (const r of replicates(runs)) {
    for (const split of ['train', 'test'] as const) {
      for (const row of r.rows) {
        const v = row[column(metric, split)];
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        const key = `${r.variant}\u0000${r.depth}\u0000${split}\u0000${row.step}`;
        const p = points.get(key) ?? { variant: r.variant, depth: r.depth, split, step: row.step, values: [] };
        p.values.push(v);
        points.set(key, p);
      }
    }
  }
  return [...points.values()]
    .map(({ values, ...p }) => ({
      ...p,
      mean: values.reduce((s, x) => s + x, 0) / values.length,
      min: Math.min(...values),
      max: Math.max(...values),
      n: values.length,
    }))
    .sort((a, b) => byVariantThenDepth(a, b) || a.split.localeCompare(b.split) || a.step - b.step);
}
