import { METRICS_COLUMNS, type MetricsRow } from '../record/metrics-csv.js';

// Numbers as the writer prints them (String() and toPrecision: 12, 0.5, 1.5e-7, NaN, -Infinity): a subset of what
// the metrics.csv schema accepts, read with Number() as it does.
const NUM = '-?\\d+(?:\\.\\d+)?(?:e[-+]\\d+)?|NaN|-?Infinity';
const CANONICAL = new RegExp(
  `^(\\d+),([^,"\\s]+),(\\d+),(\\d+),(${NUM}),(${NUM}),(${NUM}|),(${NUM}|),(${NUM}|),(${NUM}|),(${NUM}|),(${NUM}),(training|done|diverged)$`,
);

const optional = (cell: string): number | null => (cell === '' ? null : Number(cell));

/** The header is the writer's: columns in the schema's order, so that a line's cells can be taken by position. */
export const isCanonicalHeader = (columns: readonly string[]): boolean =>
  columns.length === METRICS_COLUMNS.length && columns.every((c, i) => c === METRICS_COLUMNS[i]);

/**
 * One metrics.csv line exactly as resnet-exp writes it, read without the schema: the row the schema would give,
 * or undefined for any other line (which then goes through csv-parse and the schema, for the same row or the
 * error). The schema costs about 40 µs a row; a long run's file has millions, and the dashboard reads them all.
 */
export function canonicalRow(line: string): MetricsRow | undefined {
  const m = CANONICAL.exec(line);
  if (!m) return undefined;
  return {
    seed: Number(m[1]),
    variant: m[2],
    depth: Number(m[3]),
    step: Number(m[4]),
    epoch: Number(m[5]),
    lr: Number(m[6]),
    train_loss: optional(m[7]),
    train_error: optional(m[8]),
    test_loss: optional(m[9]),
    test_error: optional(m[10]),
    images_per_sec: optional(m[11]),
    wall_seconds: Number(m[12]),
    status: m[13] as MetricsRow['status'],
  };
}
