/**
 * What the JSON API under /api/ answers (documented in the README). Types only: the page's scripts import them
 * too, and nothing of the server runs in the browser.
 */
import type { NetworkReport } from '../report/aggregate.js';
import type { MetricsRow } from '../record/metrics-csv.js';
import type { Report } from '../report/report.js';

/**
 * `running`: rows written within the last STALE_MINUTES and no summary since; `stale`: no summary and nothing
 * written for longer (killed, or a very slow step); `completed`/`interrupted`: what summary.json says; `starting`:
 * no rows yet; `error`: metrics.csv cannot be read (see `error`).
 */
export type RunStatus = 'running' | 'completed' | 'interrupted' | 'stale' | 'starting' | 'error';

export interface RunEntry {
  /** The run's path below the served folder, `/`-separated: the key for every other request about it. */
  id: string;
  /** The config's name, or the folder's when config.json has none. */
  name: string;
  /** The run folder as given on the command line, or relative to where the server started. */
  path: string;
  /** The id of the sweep folder it belongs to. */
  sweep: string | null;
  status: RunStatus;
  /** Steps done over steps configured (all seeds), 0 to 1; null when config.json does not say. */
  progress: number | null;
  /** The last step written (of the seed training now). */
  step: number | null;
  iterations: number | null;
  seeds: number[];
  backend: string | null;
  /** When the run started (ISO time, from config.json). */
  started: string | null;
  /** When metrics.csv last changed (ISO time). */
  updated: string | null;
  /** Rows read so far. */
  rows: number;
  /** Per network (seeds pooled), unfinished seeds included: report's final and best errors. */
  networks: NetworkReport[];
  /** The lowest best test error among the networks: what "best" sorts by. */
  best_test_error: number | null;
  /** Why metrics.csv cannot be read: the run page shows it. */
  error: string | null;
  /** Share of metrics.csv read while the server is still catching up with a large file; null when done. */
  loading: number | null;
}

export interface SweepEntry {
  id: string;
  name: string;
  path: string;
  /** Its runs' ids, in its sweep.json's order. */
  runs: string[];
  /** `key=v1,v2 key=...` */
  grid: string;
  created: string | null;
  error: string | null;
}

/** GET /api/runs */
export interface IndexResponse {
  /** The folders served, as given. */
  roots: string[];
  runs: RunEntry[];
  sweeps: SweepEntry[];
}

/** GET /api/runs/<id> */
export interface RunDetail extends RunEntry {
  /** config.json as written by the run; null when missing or unreadable. */
  config: Record<string, unknown> | null;
  /** What the reader should know, e.g. a torn last line. */
  warnings: string[];
  /** metrics.csv: its identity and size, and where its next unread row starts. */
  metrics: { file: string | null; size: number; next: number };
  /** Which diagnostics figures its diagnostics.csv can give. */
  diagnostics: ('responses' | 'gradients')[];
}

/** GET /api/runs/<id>/rows?since=N[&file=F][&max_bytes=B] */
export interface RowsResponse {
  rows: MetricsRow[];
  /** Offset to ask for next time; equal to `size` when every whole row has been read. */
  next: number;
  size: number;
  /** Identity of the file read: pass it back as `file`; when it no longer matches, `reset` is true. */
  file: string;
  /** The file was replaced (e.g. by `resume`) since `file`: start again from since=0. No rows come with it. */
  reset: boolean;
}

/** GET /api/report?run=ID&run=ID[&include_unfinished=1], or GET /api/runs/<id>/report */
export type ReportResponse = Report;

/** GET /api/figure?run=ID...&metric=error|loss&width=PX: one Fig. 6 spec per group of runs pooled as seeds. */
export interface FigureResponse {
  figures: {
    /** The settings these runs differ in from the others (report's setting label); null when all share one. */
    setting: string | null;
    /** The runs pooled in it; their rows go into the spec's data set named `data`. */
    runs: string[];
    data: string;
    /** The networks (`variant-depth`) it has panels and colours for; rows of another mean it must be drawn again. */
    networks: string[];
    /** A vega-lite spec (the one `plot` draws). */
    spec: unknown;
  }[];
}

/** An error answer of any /api/ request. */
export interface ApiError {
  error: string;
}
