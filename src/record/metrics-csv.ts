import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { networkDepthSchema, variantSchema } from '../config/schema.js';
import { appendWhole, nodeFileOps, writeFileAtomic, type FileOps } from './durable.js';

// The writer prints numbers with String()/toPrecision, so NaN and ±Infinity appear for a diverged network;
// anything else that is not a plain decimal is a damaged file.
const NUMBER = /^(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|NaN|[-+]?Infinity)$/;
const numberCell = z.string().trim().regex(NUMBER, 'not a number').transform(Number);
const optionalNumberCell = z
  .string()
  .trim()
  .regex(new RegExp(`^$|${NUMBER.source}`), 'not a number (nor empty)')
  .transform((s) => (s === '' ? null : Number(s)));
const wholeCell = z.string().trim().regex(/^\d+$/, 'not a whole number').transform(Number);

// What each column can hold. A value outside it is not a measurement of this program (a report once printed a
// test error of 7.5 as 750 %), so the file is refused rather than averaged.
const atLeast = (min: number) => (v: number | null) => v === null || (Number.isFinite(v) && v >= min);
const fractionCell = optionalNumberCell.refine((v) => v === null || (Number.isFinite(v) && v >= 0 && v <= 1), 'not an error rate in [0, 1]');
/** A loss is never negative; it may be NaN or ±Infinity (a network diverging), see the row check below. */
const lossCell = optionalNumberCell.refine((v) => v === null || !(v < 0), 'a negative loss');

/**
 * One metrics.csv row: the text cells a reader gets in, the typed row the writer takes. The column order of
 * the file is the order of these keys.
 */
export const metricsRowSchema = z
  .object({
    seed: wholeCell,
    variant: z.string().trim().pipe(variantSchema),
    depth: wholeCell.pipe(networkDepthSchema),
    step: wholeCell.pipe(z.number().min(1, 'not a step (steps count from 1)')),
    epoch: numberCell.refine(atLeast(0), 'not a finite epoch ≥ 0'),
    lr: numberCell.refine(atLeast(0), 'not a finite learning rate ≥ 0'),
    /** Averaged over the training batches since the previous row. */
    train_loss: lossCell,
    train_error: fractionCell,
    /** Empty where the row has no evaluation. */
    test_loss: lossCell,
    test_error: fractionCell,
    images_per_sec: optionalNumberCell.refine(atLeast(0), 'not a finite rate ≥ 0'),
    wall_seconds: numberCell.refine(atLeast(0), 'not a finite time ≥ 0'),
    /** `done` on a network's last row of a finished run, `diverged` on its last row after a non-finite loss. */
    status: z.string().trim().pipe(z.enum(['training', 'done', 'diverged'])),
  })
  .superRefine((row, ctx) => {
    // Training loss is averaged over finite step losses; only the row of the step that diverged holds NaN.
    if (row.status !== 'diverged' && row.train_loss !== null && !Number.isFinite(row.train_loss)) {
      ctx.addIssue({ code: 'custom', path: ['train_loss'], message: `not finite, in a row whose status is ${row.status} (only a diverged row has a non-finite loss)` });
    }
  });

export type MetricsRow = z.output<typeof metricsRowSchema>;
export type RowStatus = MetricsRow['status'];
export const METRICS_COLUMNS = Object.keys(metricsRowSchema.shape) as (keyof MetricsRow)[];

/** Empty for "not measured here"; 6 significant digits are plenty for curves and keep the file readable. */
const cell = (v: number | string | null): string | number => {
  if (v === null) return '';
  if (typeof v === 'string' || Number.isInteger(v) || !Number.isFinite(v)) return typeof v === 'number' ? String(v) : v;
  return Number(v.toPrecision(6));
};

/**
 * metrics.csv, one row per network per logging point. Each row is appended with a synchronous write as it
 * happens, whole or not at all, so an interrupted run or a full disk leaves only whole rows.
 */
export class MetricsCsv {
  constructor(
    readonly path: string,
    private readonly ops: FileOps = nodeFileOps,
  ) {
    if (!existsSync(path)) writeFileAtomic(path, stringify([[...METRICS_COLUMNS]]), ops);
  }

  append(rows: MetricsRow[]): void {
    if (rows.length === 0) return;
    appendWhole(this.path, stringify(rows.map((r) => METRICS_COLUMNS.map((c) => cell(r[c])))), this.ops);
  }
}

/**
 * Keeps the rows `keep` accepts (and drops a torn last line), rewriting the file atomically; the number of rows
 * dropped. Cells are copied as text, so kept rows stay byte for byte what they were.
 */
export function rewriteMetricsCsv(path: string, keep: (row: { seed: number; step: number }) => boolean, ops: FileOps = nodeFileOps): number {
  if (!existsSync(path)) return 0;
  const rows = parse(readFileSync(path, 'utf8'), { columns: true, relax_column_count: true, skip_empty_lines: true }) as Record<string, string>[];
  const kept = rows.filter((row) => Object.keys(row).length === METRICS_COLUMNS.length && row.status !== undefined && keep({ seed: Number(row.seed), step: Number(row.step) }));
  writeFileAtomic(path, stringify([[...METRICS_COLUMNS], ...kept.map((row) => METRICS_COLUMNS.map((c) => row[c]))]), ops);
  return rows.length - kept.length;
}
