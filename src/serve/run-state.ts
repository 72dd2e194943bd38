import { statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { aggregate, type NetworkReport } from '../report/aggregate.js';
import { netKey, type RunData } from '../report/read-run.js';
import { networkSummarySchema, runSummarySchema } from '../record/summary.js';
import type { RunEntry, RunStatus } from './api-types.js';
import { isInside, realPath } from './inside.js';
import type { JsonFiles } from './json-file.js';
import { readRowsSince } from './metrics-tail.js';
import { ReportRows } from './report-rows.js';

/** Minutes without a write after which a run with no summary is shown as stale rather than running. */
export const STALE_MINUTES = 10;
/** Bytes of metrics.csv read in one go while catching up: bounds the memory and the time between yields. */
export const CHUNK_BYTES = 4 * 1024 * 1024;

/** The parts of config.json the index shows; the rest is passed through to the page and to `report`. */
const recordedConfigSchema = z
  .object({
    name: z.string().optional(),
    seed: z.number().optional(),
    seeds: z.array(z.number()).optional(),
    train: z.object({ iterations: z.number().optional() }).passthrough().optional(),
    run: z.object({ backend: z.string().optional(), started: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();
type RecordedConfig = z.infer<typeof recordedConfigSchema>;

/** As `report` reads summary.json: the parameter counts; and the run's status, when it says. */
const summaryParamsSchema = z.object({ networks: z.array(networkSummarySchema.pick({ variant: true, depth: true, params: true })) });
const summaryStatusSchema = runSummarySchema.pick({ status: true });

const mtimeOf = (path: string): number | undefined => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
};

/**
 * What the server knows of one run folder: metrics.csv read incrementally (only bytes added since the last read,
 * kept as the rows the report needs), and its config and summary. A file replaced under the same name (resume
 * rewrites it) is read again from the start.
 */
export class RunState {
  private file: string | undefined;
  private next = 0;
  private size = 0;
  private line = 1;
  private mtimeMs = 0;
  private rows = new ReportRows();
  private error: string | null = null;
  /** The last read stopped at its byte limit: more whole rows wait. */
  private more = false;
  /** Bumped whenever rows are added or the file is replaced: derived values are cached on it. */
  private version = 0;
  private derived: { version: number; networks: NetworkReport[] } | undefined;

  constructor(
    readonly id: string,
    readonly dir: string,
    /** The folder as shown to the user. */
    readonly shown: string,
    readonly sweep: string | null,
    private readonly json: JsonFiles,
  ) {}

  get metricsPath(): string {
    return join(this.dir, 'metrics.csv');
  }

  /** True when metrics.csv has bytes not read yet, or was replaced, as far as stat tells. */
  behind(): boolean {
    const real = realPath(this.metricsPath);
    if (real === undefined || !isInside(real, this.dir)) return this.file !== undefined || this.error !== null;
    try {
      const stat = statSync(real);
      return stat.size !== this.size || stat.mtimeMs !== this.mtimeMs || this.next < this.size;
    } catch {
      return false;
    }
  }

  /** Reads on from where the last read stopped, at most `maxBytes`; true when more is to be read. */
  step(maxBytes = CHUNK_BYTES): boolean {
    const shown = join(this.shown, 'metrics.csv');
    let got = readRowsSince(this.metricsPath, this.dir, this.next, { maxBytes, line: this.line, shown });
    const replaced = got.ok && this.file !== undefined && got.value.file !== this.file;
    if ((!got.ok && got.error.kind === 'offset') || replaced) {
      this.reset();
      got = readRowsSince(this.metricsPath, this.dir, 0, { maxBytes, line: 1, shown });
    }
    if (!got.ok) {
      if (got.error.kind === 'gone') {
        if (this.file !== undefined) this.reset();
        this.error = null;
        return false;
      }
      if (this.error !== got.error.message) this.version++;
      this.error = got.error.message;
      return false;
    }
    const chunk = got.value;
    const from = this.next;
    this.file = chunk.file;
    this.size = chunk.size;
    this.error = null;
    this.mtimeMs = mtimeOf(this.metricsPath) ?? 0;
    if (chunk.rows.length > 0 || chunk.next !== this.next) this.version++;
    this.rows.add(chunk.rows);
    this.next = chunk.next;
    this.line += chunk.lines;
    // More to read when the read stopped at its limit; a partial last line waits for its line end.
    this.more = chunk.size - from > maxBytes;
    return this.more;
  }

  private reset(): void {
    this.file = undefined;
    this.next = 0;
    this.size = 0;
    this.line = 1;
    this.rows = new ReportRows();
    this.version++;
  }

  /** Reads until caught up with the file (tests, and the run page's first answer). */
  catchUp(): void {
    while (this.step()) {
      /* each call reads one chunk */
    }
  }

  config(): RecordedConfig | undefined {
    const parsed = recordedConfigSchema.safeParse(this.json.read(join(this.dir, 'config.json'), this.dir));
    return parsed.success ? parsed.data : undefined;
  }

  /** The run as `report` reads it, with the rows it needs. */
  runData(): RunData {
    const config = this.config();
    const params = new Map<string, number>();
    const summary = summaryParamsSchema.safeParse(this.json.read(join(this.dir, 'summary.json'), this.dir));
    if (summary.success) for (const n of summary.data.networks) params.set(netKey(n.variant, n.depth), n.params);
    return { dir: this.dir, name: config?.name, rows: this.rows.rows(), params, config: config ?? {}, warnings: this.warnings() };
  }

  warnings(): string[] {
    const pending = this.size - this.next;
    if (pending <= 0 || this.error !== null) return [];
    // The writer appends whole rows; a partial one that stays there was cut off (a crash, or a copy taken mid-write).
    return [`${join(this.shown, 'metrics.csv')}: the last ${pending} bytes are not a whole row yet (still being written, or cut off); left out`];
  }

  private status(now: number): RunStatus {
    if (this.error !== null) return 'error';
    if (this.rows.seen === 0) return 'starting';
    const summaryPath = join(this.dir, 'summary.json');
    const summary = summaryStatusSchema.safeParse(this.json.read(summaryPath, this.dir));
    const written = Math.max(this.mtimeMs, mtimeOf(join(this.dir, 'log.jsonl')) ?? 0);
    // A summary older than the latest rows is from before a resume.
    if (summary.success && (mtimeOf(summaryPath) ?? 0) >= this.mtimeMs) return summary.data.status;
    return now - written > STALE_MINUTES * 60_000 ? 'stale' : 'running';
  }

  private networks(): NetworkReport[] {
    if (this.derived?.version !== this.version) {
      const networks = this.error === null && this.rows.seen > 0 ? aggregate([this.runData()], this.dir, { includeUnfinished: true }).networks : [];
      this.derived = { version: this.version, networks };
    }
    return this.derived.networks;
  }

  /** The index's row for this run. */
  entry(now = Date.now()): RunEntry {
    const config = this.config();
    const seeds = config?.seeds ?? (config?.seed !== undefined ? [config.seed] : []);
    const iterations = config?.train?.iterations ?? null;
    const lastSteps = this.rows.lastSteps();
    const done = [...lastSteps.values()].reduce((s, x) => s + x, 0);
    const networks = this.networks();
    const bests = networks.map((n) => n.best_test_error.mean).filter((v): v is number => v !== null);
    const current = seeds.filter((s) => lastSteps.has(s)).at(-1);
    return {
      id: this.id,
      name: config?.name ?? this.id.split('/').at(-1) ?? this.id,
      path: this.shown,
      sweep: this.sweep,
      status: this.status(now),
      progress: iterations !== null && seeds.length > 0 ? Math.min(1, done / (iterations * seeds.length)) : null,
      step: current !== undefined ? (lastSteps.get(current) ?? null) : null,
      iterations,
      seeds,
      backend: config?.run?.backend ?? null,
      started: config?.run?.started ?? null,
      updated: this.mtimeMs > 0 ? new Date(this.mtimeMs).toISOString() : null,
      rows: this.rows.seen,
      networks,
      best_test_error: bests.length > 0 ? Math.min(...bests) : null,
      error: this.error,
      loading: this.more ? this.next / this.size : null,
    };
  }

  metricsInfo(): { file: string | null; size: number; next: number } {
    return { file: this.file ?? null, size: this.size, next: this.next };
  }
}
