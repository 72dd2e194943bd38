import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';

export const METRICS_COLUMNS = [
  'seed',
  'variant',
  'depth',
  'step',
  'epoch',
  'lr',
  'train_loss',
  'train_error',
  'test_loss',
  'test_error',
  'images_per_sec',
  'wall_seconds',
  'status',
] as const;

export type MetricsRow = {
  seed: number;
  variant: string;
  depth: number;
  step: number;
  epoch: number;
  lr: number;
  train_loss: number | null;
  train_error: number | null;
  /** Empty where the row has no evaluation. */
  test_loss: number | null;
  test_error: number | null;
  images_per_sec: number | null;
  wall_seconds: number;
  /** `training`, `done` or `diverged`. */
  status: string;
};

/** Empty for "not measured here"; 6 significant digits are plenty for curves and keep the file readable. */
const cell = (v: number | string | null): string | number => {
  if (v === null) return '';
  if (typeof v === 'string' || Number.isInteger(v) || !Number.isFinite(v)) return typeof v === 'number' ? String(v) : v;
  return Number(v.toPrecision(6));
};

/**
 * metrics.csv, one row per network per logging point. Each row is appended with a synchronous write as it
 * happens, so an interrupted run leaves only whole rows.
 */
export class MetricsCsv {
  constructor(readonly path: string) {
    if (!existsSync(path)) writeFileSync(path, stringify([[...METRICS_COLUMNS]]));
  }

  append(rows: MetricsRow[]): void {
    if (rows.length === 0) return;
    appendFileSync(this.path, stringify(rows.map((r) => METRICS_COLUMNS.map((c) => cell(r[c])))));
  }
}
