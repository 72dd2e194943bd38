import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { err, ok, type Result } from '../result.js';
import { appendWhole, nodeFileOps, writeFileAtomic, type FileOps } from './durable.js';

export const DIAGNOSTIC_KINDS = ['grad_norm', 'response_std'] as const;
export type DiagnosticKind = (typeof DIAGNOSTIC_KINDS)[number];

const wholeCell = z.string().trim().regex(/^\d+$/, 'not a whole number').transform(Number);
// NaN appears when a network's weights went bad; anything else that is not a plain decimal is a damaged file.
const valueCell = z
  .string()
  .trim()
  .regex(/^(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|NaN|[-+]?Infinity)$/, 'not a number')
  .transform(Number);

/**
 * One diagnostics.csv row: the text cells a reader gets in, the typed row the writer takes; the file's columns are
 * these keys in order.
 */
export const diagnosticsRowSchema = z.object({
  seed: wholeCell,
  variant: z.string().trim().min(1, 'empty'),
  depth: wholeCell,
  step: wholeCell,
  /** The layer's name in the model, e.g. `stage2.block1.conv1`. */
  layer: z.string().trim().min(1, 'empty'),
  /**
   * The layer's place among the `depth` weighted layers the paper counts (stem conv 1, the 3x3 convs in order,
   * classifier `depth`); empty for 1x1 projection shortcuts (option B), which are off the main path.
   */
  index: z
    .string()
    .trim()
    .regex(/^\d*$/, 'not a whole number (nor empty)')
    .transform((s) => (s === '' ? null : Number(s))),
  /** `grad_norm`: L2 norm of the loss gradient w.r.t. the layer's kernel; `response_std`: std of the layer's output. */
  kind: z.enum(DIAGNOSTIC_KINDS),
  value: valueCell,
});

export type DiagnosticsRow = z.output<typeof diagnosticsRowSchema>;
export const DIAGNOSTICS_COLUMNS = Object.keys(diagnosticsRowSchema.shape) as (keyof DiagnosticsRow)[];

const cell = (v: number | string | null): string | number => {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : Number(v.toPrecision(6));
};

const toLines = (rows: readonly DiagnosticsRow[]): string => stringify(rows.map((r) => DIAGNOSTICS_COLUMNS.map((c) => cell(r[c]))));

/**
 * diagnostics.csv in a run folder. Each diagnostics point's rows go out in one synchronous append as they are
 * made, whole or not at all, so an interrupted run or a full disk leaves only whole rows.
 */
export class DiagnosticsCsv {
  constructor(
    readonly path: string,
    private readonly ops: FileOps = nodeFileOps,
  ) {
    if (!existsSync(path)) writeFileAtomic(path, stringify([[...DIAGNOSTICS_COLUMNS]]), ops);
  }

  append(rows: readonly DiagnosticsRow[]): void {
    if (rows.length > 0) appendWhole(this.path, toLines(rows), this.ops);
  }
}

/** Keeps the rows `keep` accepts, rewriting the file atomically; the number of rows dropped. */
export function rewriteDiagnosticsCsv(path: string, keep: (row: DiagnosticsRow) => boolean, ops: FileOps = nodeFileOps): number {
  if (!existsSync(path)) return 0;
  const rows = readDiagnosticsCsv(path);
  // A file we cannot read back is left alone: appending to it loses nothing that was there.
  if (!rows.ok) return 0;
  const kept = rows.value.filter(keep);
  writeFileAtomic(path, stringify([[...DIAGNOSTICS_COLUMNS]]) + toLines(kept), ops);
  return rows.value.length - kept.length;
}

/** Parses and checks a diagnostics.csv; the first problem found is the error, naming the file and line. */
export function readDiagnosticsCsv(path: string, shown = path): Result<DiagnosticsRow[]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return err(`${shown}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: true, info: true, skip_empty_lines: true, bom: true, relax_column_count: true }) as typeof records;
  } catch (e) {
    return err(`${shown}: malformed CSV: ${(e as Error).message.split('\n')[0]}`);
  }
  const missing = records.length > 0 ? DIAGNOSTICS_COLUMNS.filter((c) => !(c in records[0].record)) : [];
  if (missing.length > 0) return err(`${shown}: not a resnet-exp diagnostics.csv: missing column(s) ${missing.join(', ')}`);
  const rows: DiagnosticsRow[] = [];
  // The writer ends every row with a newline: a last line without one was torn by a killed run, and is skipped.
  const whole = text.endsWith('\n') ? records : records.slice(0, -1);
  for (const { record, info } of whole) {
    const parsed = diagnosticsRowSchema.safeParse(record);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return err(`${shown}: line ${info.lines}: column ${issue.path.join('.')}: ${issue.message} (${JSON.stringify(record[String(issue.path[0])])})`);
    }
    rows.push(parsed.data);
  }
  return ok(rows);
}
