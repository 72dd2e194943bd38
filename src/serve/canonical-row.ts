import { METRICS_COLUMNS, metricsRowSchema, type MetricsRow } from '../record/metrics-csv.js';

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
  // The cells still go through the row schema (ranges, variants, depths, NaN only on a diverged row): only
  // csv-parse's tokenising is skipped. A line the schema refuses takes the slow path, which reports it.
  const parsed = metricsRowSchema.safeParse(Object.fromEntries(METRICS_COLUMNS.map((c, i) => [c, m[i + 1]])));
  return parsed.success ? parsed.data : undefined;
}
