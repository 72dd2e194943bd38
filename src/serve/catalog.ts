import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { shownPath } from '../report/read-run.js';
import { buildReport, type Report } from '../report/report.js';
import { settingLabels } from '../report/setting.js';
import { err, ok, type Result } from '../result.js';
import { SWEEP_FILE, sweepFileSchema } from '../record/sweep-file.js';
import type { IndexResponse, RunDetail, RunEntry, RowsResponse, SweepEntry } from './api-types.js';
import { JsonFiles } from './json-file.js';
import { readRowsSince } from './metrics-tail.js';
import { RunState } from './run-state.js';
import { scanRoots, type Found } from './scan.js';
import { realPath } from './inside.js';

/** How often the folders are searched again for new runs, at most. */
const RESCAN_MS = 2000;

export interface CatalogOptions {
  /** The folders to serve, as given (shown in the page) and resolved against `cwd`. */
  roots: readonly string[];
  cwd: string;
}

const wait = (ms: number): { promise: Promise<void>; cancel: () => void } => {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((done) => (timer = setTimeout(done, ms)));
  return { promise, cancel: () => clearTimeout(timer) };
};

/**
 * Every run and sweep under the served folders, and what has been read of them. Nothing outside the folders is
 * reachable from here: runs are found by searching the folders (symlinks out are not followed) and looked up by
 * id, so no part of a request ever becomes a path.
 */
export class Catalog {
  readonly roots: string[];
  private readonly shownRoots: string[];
  private readonly json = new JsonFiles();
  private found: Found[] = [];
  private scannedAt = -Infinity;
  private readonly runs = new Map<string, RunState>();
  private catching: Promise<void> | undefined;

  private constructor(
    roots: string[],
    shownRoots: string[],
    private readonly cwd: string,
  ) {
    this.roots = roots;
    this.shownRoots = shownRoots;
  }

  /** The folders must exist; each problem is one line naming the folder. */
  static open(options: CatalogOptions): Result<Catalog> {
    const roots: string[] = [];
    for (const root of options.roots) {
      const real = realPath(resolve(options.cwd, root));
      if (real === undefined) return err(`${root}: no such folder`);
      if (!statSync(real).isDirectory()) return err(`${root}: not a folder (give a folder of runs, a sweep folder or a run folder)`);
      roots.push(real);
    }
    return ok(new Catalog(roots, options.roots.map((r) => shownPath(resolve(options.cwd, r), options.cwd)), options.cwd));
  }

  /** Searches the folders again when the last search is older than RESCAN_MS (or `force`). */
  rescan(force = false, now = Date.now()): void {
    if (!force && now - this.scannedAt < RESCAN_MS) return;
    this.scannedAt = now;
    this.found = scanRoots(this.roots);
    const live = new Set<string>();
    for (const f of this.found) {
      if (f.kind !== 'run') continue;
      live.add(f.id);
      const known = this.runs.get(f.id);
      if (known?.dir === f.dir) continue;
      const shown = f.rel === '' ? this.shownRoots[f.root] : join(this.shownRoots[f.root], f.rel);
      this.runs.set(f.id, new RunState(f.id, f.dir, shown, f.sweep, this.json));
    }
    for (const id of this.runs.keys()) if (!live.has(id)) this.runs.delete(id);
  }

  run(id: string): RunState | undefined {
    this.rescan();
    return this.runs.get(id);
  }

  /**
   * Reads what was added to the runs' metrics files since the last call, yielding between chunks so that other
   * requests are answered meanwhile; waits at most `budgetMs` for it (a first read of large files goes on after).
   */
  async sync(budgetMs: number): Promise<void> {
    this.rescan();
    this.catching ??= this.catchUp().finally(() => (this.catching = undefined));
    const timer = wait(budgetMs);
    try {
      await Promise.race([this.catching, timer.promise]);
    } finally {
      timer.cancel();
    }
  }

  private async catchUp(): Promise<void> {
    for (const state of [...this.runs.values()]) {
      if (!state.behind()) continue;
      while (state.step()) await nextTurn();
      await nextTurn();
    }
  }

  index(now = Date.now()): IndexResponse {
    this.rescan();
    const runs: RunEntry[] = [...this.runs.values()].map((r) => r.entry(now));
    return { roots: this.shownRoots, runs, sweeps: this.sweeps() };
  }

  private sweeps(): SweepEntry[] {
    const out: SweepEntry[] = [];
    for (const f of this.found) {
      if (f.kind !== 'sweep') continue;
      const path = f.rel === '' ? this.shownRoots[f.root] : join(this.shownRoots[f.root], f.rel);
      const parsed = sweepFileSchema.safeParse(this.json.read(join(f.dir, SWEEP_FILE), f.dir));
      const children = [...this.runs.values()].filter((r) => r.sweep === f.id);
      if (!parsed.success) {
        out.push({ id: f.id, name: f.id.split('/').at(-1) ?? f.id, path, runs: children.map((r) => r.id), grid: '', created: null, error: `${join(path, SWEEP_FILE)}: not a resnet-exp sweep file` });
        continue;
      }
      // The sweep's own list of runs, as `report` reads it: older attempts set aside beside them are not its runs.
      const byDir = new Map(children.map((r) => [r.dir, r.id]));
      const runs = parsed.data.runs.map((r) => byDir.get(realPath(join(f.dir, r.folder)) ?? '')).filter((id): id is string => id !== undefined);
      out.push({
        id: f.id,
        name: f.id.split('/').at(-1) ?? f.id,
        path,
        runs,
        grid: parsed.data.grid.map((g) => `${g.key}=${g.values.map((v) => JSON.stringify(v)).join(',')}`).join(' '),
        created: parsed.data.created,
        error: null,
      });
    }
    return out;
  }

  /** The runs of a sweep, by its id; undefined when there is no such sweep. */
  sweepRuns(id: string): string[] | undefined {
    this.rescan();
    return this.sweeps().find((s) => s.id === id)?.runs;
  }

  detail(id: string, now = Date.now()): RunDetail | undefined {
    const state = this.run(id);
    if (!state) return undefined;
    const config = state.config();
    return {
      ...state.entry(now),
      config: config ?? null,
      warnings: state.warnings(),
      metrics: state.metricsInfo(),
      diagnostics: [],
    };
  }

  /**
   * Rows of a run's metrics.csv from byte `since` (see RowsResponse); read straight from the file, at most
   * `maxBytes` of it, so a page catching up with a long run asks again from `next`.
   */
  rows(id: string, since: number, file: string | undefined, maxBytes: number): Result<RowsResponse, { status: number; message: string }> | undefined {
    const state = this.run(id);
    if (!state) return undefined;
    const read = (from: number) => readRowsSince(state.metricsPath, state.dir, from, { maxBytes, shown: join(state.shown, 'metrics.csv') });
    let got = read(since);
    if (got.ok && file !== undefined && got.value.file !== file) {
      return ok({ rows: [], next: 0, size: got.value.size, file: got.value.file, reset: true });
    }
    if (!got.ok && got.error.kind === 'offset' && file !== undefined) {
      // The offset came from a file since replaced by a shorter one: the page starts again.
      got = read(0);
      if (got.ok) return ok({ rows: [], next: 0, size: got.value.size, file: got.value.file, reset: true });
    }
    if (!got.ok) {
      const status = got.error.kind === 'offset' ? 400 : got.error.kind === 'gone' ? 404 : 422;
      return err({ status, message: got.error.message });
    }
    const { rows, next, size, file: current } = got.value;
    return ok({ rows, next, size, file: current, reset: false });
  }

  /** `report` over the given runs, pooled as seeds where their settings agree. */
  report(ids: readonly string[], includeUnfinished: boolean): Result<Report, { status: number; message: string }> {
    const states: RunState[] = [];
    for (const id of ids) {
      const state = this.run(id);
      if (!state) return err({ status: 404, message: `no run ${JSON.stringify(id)}` });
      const entry = state.entry();
      if (entry.error !== null) return err({ status: 422, message: entry.error });
      states.push(state);
    }
    return ok(buildReport(states.map((s) => s.runData()), this.cwd, { includeUnfinished }));
  }

  /** The runs grouped as `report` pools them: by the settings they differ in (null when they all agree). */
  groups(ids: readonly string[]): { setting: string | null; runs: RunState[] }[] | undefined {
    const states = ids.map((id) => this.run(id));
    if (states.some((s) => s === undefined)) return undefined;
    const runs = states as RunState[];
    const labels = settingLabels(runs.map((r) => r.config() ?? {}));
    const groups = new Map<string | null, RunState[]>();
    runs.forEach((r, i) => groups.set(labels[i], [...(groups.get(labels[i]) ?? []), r]));
    return [...groups].map(([setting, members]) => ({ setting, runs: members }));
  }
}
