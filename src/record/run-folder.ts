import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { formatIssues } from '../config/format-issues.js';
import { configSchema, type BackendName, type Config } from '../config/schema.js';
import { InputError } from '../result.js';
import { DiagnosticsCsv, rewriteDiagnosticsCsv } from './diagnostics-csv.js';
import { fsyncDir, nodeFileOps, writeFailure, writeFileAtomic, writeSynced, type FileOps } from './durable.js';
import { FolderLock, LOCK_FILE, refuseIfLocked } from './lock.js';
import { openLogFile, type LogFile } from './log-file.js';
import { MetricsCsv, rewriteMetricsCsv } from './metrics-csv.js';
import { pidAlive } from './process.js';
import { packageVersion } from './provenance.js';
import { runSummarySchema, type RunSummary } from './summary.js';

/**
 * A run folder and everything in it. A folder holds a run when it has the marker `.resnet-exp-run`, which only
 * resnet-exp writes; a process works in it only while holding its lock (`.resnet-exp-lock`). Files resnet-exp
 * did not write are never overwritten or deleted: a folder without the marker that holds any of the names below
 * is refused, `--force` included.
 */

export const RUN_MARKER = '.resnet-exp-run';

/** What a run writes into its folder, by role. */
export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.csv',
  diagnostics: 'diagnostics.csv',
  log: 'log.jsonl',
  summary: 'summary.json',
  checkpoints: 'checkpoints',
} as const;

export type RunPaths = { readonly dir: string; readonly marker: string } & { readonly [K in keyof typeof RUN_FILES]: string };

/** Where each file of the run in `dir` is (relative to the current folder when `dir` is). */
export function runPaths(dir: string): RunPaths {
  const at = (name: string) => join(dir, name);
  return {
    dir,
    marker: at(RUN_MARKER),
    config: at(RUN_FILES.config),
    metrics: at(RUN_FILES.metrics),
    diagnostics: at(RUN_FILES.diagnostics),
    log: at(RUN_FILES.log),
    summary: at(RUN_FILES.summary),
    checkpoints: at(RUN_FILES.checkpoints),
  };
}

/** `runs/<name>-<UTC time>` under the current folder, e.g. runs/cifar56-20261129T191512Z. */
export function defaultRunDir(name: string, now = new Date(), cwd = process.cwd()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return resolve(cwd, 'runs', `${name}-${stamp}`);
}

/** `checkpoints/s<seed index>-<step, 9 digits>`. */
export const CHECKPOINT_FOLDER = /^s\d+-\d{9}$/;

/** The checkpoint folders under `root`, oldest first. */
export const checkpointFolders = (root: string): string[] => (existsSync(root) ? readdirSync(root).filter((n) => CHECKPOINT_FOLDER.test(n)).sort() : []);

// Temporary names carry the writer's pid: `<file>.tmp-<pid>` beside a file, `checkpoints/.tmp-<pid>-<checkpoint>`.
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const FILE_TEMP = new RegExp(`^(?:${[...Object.values(RUN_FILES), RUN_MARKER, LOCK_FILE].map(escape).join('|')})\\.tmp-(\\d+)$`);
const CHECKPOINT_TEMP = /^\.tmp-(\d+)-s\d+-\d{9}$/;

const markerSchema = z.object({ format: z.literal('resnet-exp run folder'), version: z.number().int() });
/** config.json as versions before the marker wrote it: the resolved config plus the `run` block. */
const legacyConfigSchema = z.looseObject({ run: z.looseObject({ backend: z.string(), started: z.string() }) });

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

interface FolderState {
  exists: boolean;
  /** Has a marker resnet-exp wrote. */
  marked: boolean;
  /** No marker, but a config.json with the `run` block: a run of an earlier resnet-exp. */
  legacy: boolean;
  /** The names resnet-exp writes that are present (a marker it did not write counts). */
  taken: string[];
}

function inspect(dir: string): FolderState {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat) return { exists: false, marked: false, legacy: false, taken: [] };
  if (!stat.isDirectory()) throw new InputError(`${dir} exists and is not a folder`);
  let names: Set<string>;
  try {
    names = new Set(readdirSync(dir));
  } catch (e) {
    throw new InputError(`cannot read ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const marked = names.has(RUN_MARKER) && markerSchema.safeParse(readJson(join(dir, RUN_MARKER))).success;
  const taken = Object.values(RUN_FILES).filter((n) => names.has(n)) as string[];
  if (names.has(RUN_MARKER) && !marked) taken.push(RUN_MARKER);
  const legacy = !marked && names.has(RUN_FILES.config) && legacyConfigSchema.safeParse(readJson(join(dir, RUN_FILES.config))).success;
  return { exists: true, marked, legacy, taken };
}

/** Whether `run --out dir` may start there: refuses what would overwrite a run, or files resnet-exp did not write. */
function checkCreatable(dir: string, state: FolderState, force: boolean): void {
  if (state.taken.length === 0) return;
  if (state.marked) {
    if (force) return;
    throw new InputError(`${dir} already holds a run; choose another --out, or pass --force to overwrite it`);
  }
  throw new InputError(
    `${dir} is not a resnet-exp run folder (no ${RUN_MARKER} marker) but holds ${state.taken.join(', ')}; ` +
      'resnet-exp never overwrites or deletes files it did not write (not with --force either): choose another --out' +
      (state.legacy ? ' (it looks like a run of an earlier resnet-exp: continue it with resnet-exp resume, or move it away)' : ''),
  );
}

const cannotWrite = (dir: string, e: unknown) => new InputError(`cannot write run folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);

/** Held by the process working in a run folder; every write to the run goes through it. */
export class RunFolder {
  private constructor(
    readonly paths: RunPaths,
    private readonly lock: FolderLock,
    private readonly ops: FileOps,
  ) {}

  get dir(): string {
    return this.paths.dir;
  }

  /**
   * A new run in `dir` (created if needed), locked. Refused (InputError): a folder in use; one that holds a run,
   * unless `force`, which then removes that run's files and nothing else; one without the marker that holds any
   * name resnet-exp writes. Stale temporary files of dead processes are removed.
   */
  static create(dir: string, options: { force?: boolean; ops?: FileOps } = {}): RunFolder {
    const paths = runPaths(dir);
    const force = options.force ?? false;
    // Refused before anything is written; checked again under the lock, where it can't change any more.
    refuseIfLocked(paths.dir);
    checkCreatable(paths.dir, inspect(paths.dir), force);
    try {
      mkdirSync(paths.dir, { recursive: true });
    } catch (e) {
      throw cannotWrite(paths.dir, e);
    }
    const lock = FolderLock.acquire(paths.dir);
    try {
      const state = inspect(paths.dir);
      checkCreatable(paths.dir, state, force);
      const folder = new RunFolder(paths, lock, options.ops ?? nodeFileOps);
      folder.removeStaleTemps();
      if (state.marked) folder.clearRun();
      else folder.writeMarker();
      return folder;
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /**
   * An existing run, locked, to continue it. A folder without the marker is accepted when its config.json has
   * the `run` block resnet-exp writes (a run of a version before the marker); `adopt` then marks it.
   */
  static open(dir: string, options: { ops?: FileOps } = {}): RunFolder {
    const paths = runPaths(dir);
    const state = inspect(paths.dir);
    if (!state.exists) throw new InputError(`${dir}: no such folder`);
    if (!state.marked && !state.legacy) {
      throw new InputError(`${dir} is not a run folder (no ${RUN_MARKER} marker, and no config.json written by resnet-exp)`);
    }
    const lock = FolderLock.acquire(paths.dir);
    try {
      const folder = new RunFolder(paths, lock, options.ops ?? nodeFileOps);
      folder.removeStaleTemps();
      return folder;
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /** Lets go of the folder (also done at process exit). */
  release(): void {
    this.lock.release();
  }

  /** Marks a run of an earlier version as a run folder, once it is being continued. */
  adopt(): void {
    if (!inspect(this.dir).marked) this.writeMarker();
  }

  private writeMarker(): void {
    const marker = { format: 'resnet-exp run folder', version: 1, created: new Date().toISOString(), by: `resnet-exp ${packageVersion()}` };
    writeFileAtomic(this.paths.marker, `${JSON.stringify(marker, null, 2)}\n`, this.ops);
  }

  /**
   * `--force`: removes the run's own files — the files named in RUN_FILES and the checkpoint folders — and
   * nothing else: other files, and folders of other names under checkpoints/, stay.
   */
  private clearRun(): void {
    for (const key of ['config', 'metrics', 'diagnostics', 'log', 'summary'] as const) {
      if (lstatSync(this.paths[key], { throwIfNoEntry: false })?.isFile()) rmSync(this.paths[key]);
    }
    const root = this.paths.checkpoints;
    if (!lstatSync(root, { throwIfNoEntry: false })?.isDirectory()) return;
    for (const name of checkpointFolders(root)) rmSync(join(root, name), { recursive: true, force: true });
    if (readdirSync(root).length === 0) rmdirSync(root);
  }

  /**
   * Temporary files and checkpoint folders left by processes that died mid-write (SIGKILL, a crash), recognised
   * by resnet-exp's own temp names and removed when the pid in the name is no longer alive. Returns them.
   */
  removeStaleTemps(): string[] {
    const stale = (match: RegExpExecArray | null) => match !== null && Number(match[1]) !== process.pid && !pidAlive(Number(match[1]));
    const removed: string[] = [];
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      if (stale(FILE_TEMP.exec(name)) && lstatSync(path).isFile()) {
        rmSync(path, { force: true });
        removed.push(path);
      }
    }
    const root = this.paths.checkpoints;
    if (lstatSync(root, { throwIfNoEntry: false })?.isDirectory()) {
      for (const name of readdirSync(root)) {
        const path = join(root, name);
        if (stale(CHECKPOINT_TEMP.exec(name)) && lstatSync(path).isDirectory()) {
          rmSync(path, { recursive: true, force: true });
          removed.push(path);
        }
      }
    }
    return removed;
  }

  /** config.json: the resolved config and the `run` block. */
  writeConfig(recorded: Config & { run: Record<string, unknown> }): void {
    writeFileAtomic(this.paths.config, `${JSON.stringify(recorded, null, 2)}\n`, this.ops);
  }

  writeSummary(summary: RunSummary): void {
    writeFileAtomic(this.paths.summary, `${JSON.stringify(summary, null, 2)}\n`, this.ops);
  }

  metrics(): MetricsCsv {
    return new MetricsCsv(this.paths.metrics, this.ops);
  }

  diagnostics(): DiagnosticsCsv {
    return new DiagnosticsCsv(this.paths.diagnostics, this.ops);
  }

  /** log.jsonl, for appending (a last line torn by a killed run is ended first). */
  openLog(): LogFile {
    return openLogFile(this.paths.log, this.ops);
  }

  /**
   * Before continuing from the checkpoint at (`seedIndex`, `step`): drops the metrics and diagnostics rows
   * written after it (and torn last lines), so the continuation appends without duplicated or missing steps.
   */
  truncateAfter(seeds: readonly number[], at: { seedIndex: number; step: number }): { metrics: number; diagnostics: number } {
    const keep = (row: { seed: number; step: number }) => {
      const index = seeds.indexOf(row.seed);
      return index < at.seedIndex || (index === at.seedIndex && row.step <= at.step);
    };
    return {
      metrics: rewriteMetricsCsv(this.paths.metrics, keep, this.ops),
      diagnostics: rewriteDiagnosticsCsv(this.paths.diagnostics, keep, this.ops),
    };
  }

  /**
   * Writes checkpoint folder `name` (files in order; the manifest last) under a temporary name, fsynced, then
   * renamed, so a folder with a final name is complete. A failed write removes the temporary folder and names
   * the file; the checkpoints before it are untouched. Then prunes all but the newest `keep`. Returns the folder.
   */
  writeCheckpoint(name: string, files: readonly { name: string; data: string | Uint8Array }[], keep: number): string {
    if (!CHECKPOINT_FOLDER.test(name)) throw new Error(`not a checkpoint folder name: ${name}`);
    const root = this.paths.checkpoints;
    const final = join(root, name);
    const temp = join(root, `.tmp-${process.pid}-${name}`);
    let writing = final;
    try {
      mkdirSync(root, { recursive: true });
      rmSync(temp, { recursive: true, force: true });
      this.ops.mkdirSync(temp);
      for (const file of files) {
        writing = join(final, file.name);
        writeSynced(join(temp, file.name), file.data, this.ops);
      }
      writing = final;
      fsyncDir(temp, this.ops);
      rmSync(final, { recursive: true, force: true });
      this.ops.renameSync(temp, final);
    } catch (e) {
      rmSync(temp, { recursive: true, force: true });
      throw writeFailure(writing, e);
    }
    fsyncDir(root, this.ops);
    const folders = checkpointFolders(root);
    for (const old of folders.slice(0, Math.max(0, folders.length - keep))) rmSync(join(root, old), { recursive: true, force: true });
    return final;
  }
}

/** config.json as plain JSON, for readers that want a few keys (report, plot); undefined when missing or unreadable. */
export function readConfigJson(dir: string): Record<string, unknown> | undefined {
  const json = readJson(runPaths(dir).config);
  return json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
}

/**
 * The resolved config a run folder was started with, checked against the schema, the backend it ran on, and the
 * rest of the `run` block resnet-exp recorded (threads, version, data read) as written.
 */
export function readRunConfig(runDir: string): { config: Config; backend?: BackendName; run?: Record<string, unknown> } {
  const path = runPaths(runDir).config;
  if (!existsSync(path)) throw new InputError(`${runDir} is not a run folder (no config.json)`);
  let raw: { run?: { backend?: BackendName } & Record<string, unknown> } & Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as typeof raw;
  } catch (e) {
    throw new InputError(`${path}: unreadable (${e instanceof Error ? e.message : String(e)})`);
  }
  const { run, ...config } = raw;
  const parsed = configSchema.safeParse(config, { reportInput: true });
  if (!parsed.success) throw new InputError(formatIssues(parsed.error.issues).map((l) => `${path}: ${l}`).join('\n'));
  return { config: parsed.data, backend: run?.backend, run };
}

/** summary.json when present and valid. */
export function readSummary(dir: string): RunSummary | undefined {
  const parsed = runSummarySchema.safeParse(readJson(runPaths(dir).summary));
  return parsed.success ? parsed.data : undefined;
}
