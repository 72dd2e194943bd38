import { closeSync, readSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { err, ok, type Result } from '../result.js';
import { METRICS_COLUMNS, metricsRowSchema, type MetricsRow } from '../record/metrics-csv.js';
import { canonicalRow, isCanonicalHeader } from './canonical-row.js';
import { openInside } from './inside.js';

/** Rows of metrics.csv from a byte offset on: what a page appends to its curves, what the index folds in. */
export interface RowsChunk {
  rows: MetricsRow[];
  /** The offset after the last whole row read: where the next read starts. */
  next: number;
  /** The file's size when read; `next < size` means more rows (or a row still being written) are there. */
  size: number;
  /** Which file this is: a file replaced under the same name (resume rewrites it) gets another id. */
  file: string;
  /** Line ends read past `since` (the header's among them when `since` was 0): a caller keeping count adds it. */
  lines: number;
}

/** Why rows could not be read: `gone` (no such file, or not one we may read), `offset`, or a damaged file. */
export type RowsError = { kind: 'gone' | 'offset' | 'malformed'; message: string };

const NEWLINE = 0x0a;
/** The header is one line of column names; a first line longer than this is not a metrics.csv header. */
const MAX_HEADER = 64 * 1024;

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buffer, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buffer.subarray(0, got);
}

/** Counts the lines before `offset`: only when an error needs a line number for a read that did not start at 0. */
function lineAt(fd: number, offset: number): number {
  let lines = 1;
  for (let pos = 0; pos < offset; pos += 1 << 20) {
    const chunk = readAt(fd, pos, Math.min(1 << 20, offset - pos));
    for (const byte of chunk) if (byte === NEWLINE) lines++;
  }
  return lines;
}

interface Header {
  columns: string[];
  /** Offset of the first row. */
  end: number;
}

function readHeader(fd: number, size: number, shown: string): Result<Header | undefined, RowsError> {
  const head = readAt(fd, 0, Math.min(size, MAX_HEADER));
  const end = head.indexOf(NEWLINE);
  if (end < 0) {
    if (size >= MAX_HEADER) return err({ kind: 'malformed', message: `${shown}: line 1: not a metrics.csv header (no line end in ${MAX_HEADER} bytes)` });
    return ok(undefined); // the header is still being written
  }
  const records = parse(head.subarray(0, end + 1), { bom: true, relax_column_count: true }) as string[][];
  const columns = (records[0] ?? []).map((c) => c.trim());
  const missing = METRICS_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) return err({ kind: 'malformed', message: `${shown}: not a resnet-exp metrics.csv: missing column(s) ${missing.join(', ')}` });
  return ok({ columns, end: end + 1 });
}

/** Every line of `whole` read as the writer wrote it, or undefined when one is not (the schema then reads them all). */
function canonicalRows(whole: Buffer): MetricsRow[] | undefined {
  const text = whole.toString('utf8');
  if (text.includes('"')) return undefined;
  const rows: MetricsRow[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const row = canonicalRow(line);
    if (!row) return undefined;
    rows.push(row);
  }
  return rows;
}

export interface ReadOptions {
  /** At most this many bytes of rows per read; the caller reads on from `next`. */
  maxBytes: number;
  /** The line number (1 = header) at `since`, when the caller keeps count: saves a scan when an error needs it. */
  line?: number;
  /** The path as shown in messages. */
  shown: string;
}

/**
 * Whole rows from byte `since` (0, or a `next` an earlier read returned) to the last line end: a row still being
 * written is left for a later read, so only new bytes are ever read and every row comes once. Each row is checked
 * against the metrics.csv schema; the first bad one is the error, by line and column. The file must be a regular
 * file inside `dir` (a real path).
 */
export function readRowsSince(path: string, dir: string, since: number, options: ReadOptions): Result<RowsChunk, RowsError> {
  const opened = openInside(path, dir);
  if (!opened) return err({ kind: 'gone', message: `${options.shown}: no such file` });
  const { fd, stat } = opened;
  try {
    const size = stat.size;
    const file = `${stat.dev}:${stat.ino}:${Math.round(stat.birthtimeMs)}`;
    const header = readHeader(fd, size, options.shown);
    if (!header.ok) return header;
    if (header.value === undefined) return ok({ rows: [], next: 0, size, file, lines: 0 });
    const { columns, end } = header.value;
    if (!Number.isInteger(since) || since < 0 || since > size) {
      return err({ kind: 'offset', message: `offset ${since} is outside the file (${size} bytes)` });
    }
    const start = Math.max(since, end);
    if ((since > 0 && since < end) || (start > end && readAt(fd, start - 1, 1)[0] !== NEWLINE)) {
      return err({ kind: 'offset', message: `offset ${since} is not the start of a row (give 0 or a "next" this API returned)` });
    }
    const chunk = readAt(fd, start, Math.min(size - start, options.maxBytes));
    const last = chunk.lastIndexOf(NEWLINE);
    if (last < 0) {
      if (chunk.length >= options.maxBytes) return err({ kind: 'malformed', message: `${options.shown}: a line longer than ${options.maxBytes} bytes` });
      return ok({ rows: [], next: start, size, file, lines: start - since === 0 ? 0 : 1 });
    }
    const whole = chunk.subarray(0, last + 1);
    let lines = start > since ? 1 : 0; // the header's line end
    for (const byte of whole) if (byte === NEWLINE) lines++;
    const fast = isCanonicalHeader(columns) ? canonicalRows(whole) : undefined;
    if (fast) return ok({ rows: fast, next: start + whole.length, size, file, lines });
    const firstLine = (): number => (start === since && options.line !== undefined ? options.line : lineAt(fd, start));
    let records: { record: string[]; info: { lines: number } }[];
    try {
      records = parse(whole, { info: true, skip_empty_lines: true }) as unknown as typeof records;
    } catch (e) {
      // csv-parse counts lines from the chunk's start.
      const message = (e as Error).message.split('\n')[0].replace(/(on )?line (\d+)/, (_m, on: string | undefined, n: string) => `${on ?? ''}line ${firstLine() + Number(n) - 1}`);
      return err({ kind: 'malformed', message: `${options.shown}: malformed CSV: ${message}` });
    }
    const rows: MetricsRow[] = [];
    for (const { record, info } of records) {
      const line = (): number => firstLine() + info.lines - 1;
      if (record.length !== columns.length) {
        return err({ kind: 'malformed', message: `${options.shown}: line ${line()}: ${record.length} cells, the header has ${columns.length}` });
      }
      const cells = Object.fromEntries(columns.map((c, i) => [c, record[i]]));
      const parsed = metricsRowSchema.safeParse(cells);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const column = String(issue.path[0]);
        return err({ kind: 'malformed', message: `${options.shown}: line ${line()}: column ${column}: ${issue.message} (${JSON.stringify(cells[column])})` });
      }
      rows.push(parsed.data);
    }
    return ok({ rows, next: start + whole.length, size, file, lines });
  } finally {
    closeSync(fd);
  }
}
