import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { loadConfig, parseSet, shorthandOverrides, type Config, type Override, type Shorthands } from '../config/index.js';
import { writeFileAtomic } from '../record/durable.js';
import { defaultRunDir, runPaths } from '../record/run-folder.js';
import type { RunSummary } from '../record/summary.js';
import { err, InputError, ok, type Result } from '../result.js';
import { expandGrid, gridFlagValue, parseGrid, type Assignment, type Combination, type GridAxis } from './grid.js';
import { shellJoin } from './shell.js';
import { readSweepFile, SWEEP_FILE, sweepFileSchema, sweepMismatch, type SweepFile } from '../record/sweep-file.js';

/** A sweep as the user asked for it on the command line. */
export interface SweepSpec {
  /** Config file, as given. */
  configFile: string;
  /** `--set` flags, as given. */
  sets: readonly string[];
  /** The shorthand override flags (`--depth`, `--seed`, ...), without `--out`, which names the sweep folder. */
  shorthands: Omit<Shorthands, 'out'>;
  /** `--grid` flags, as given. */
  grid: readonly string[];
  /** Sweep folder; default runs/<name>-sweep-<UTC time>. */
  out?: string;
  /** RESNET_EXP_DATA. */
  dataDirEnv?: string;
  cwd: string;
  now?: Date;
}

export interface PlannedRun {
  index: number;
  /** The run folder's name inside the sweep folder, e.g. `000-model.depth=20-seed=1`. */
  folder: string;
  /** Absolute run folder. */
  dir: string;
  assignments: Assignment[];
  /** Validated; `out` is `dir`. */
  config: Config;
}

export interface SweepPlan {
  /** Absolute sweep folder. */
  dir: string;
  /** Absolute config file. */
  configFile: string;
  axes: GridAxis[];
  /** `key=value` overrides every run gets before its grid values: the `--set` and shorthand flags, in order. */
  baseSets: string[];
  runs: PlannedRun[];
}

/** Path-valued keys are resolved against cwd here so that command lines built from the plan run from anywhere. */
function setFlagText(override: Override, cwd: string): string {
  const key = override.path.join('.');
  const value = key === 'data.dir' && typeof override.value === 'string' ? resolve(cwd, override.value) : override.value;
  // Strings that `--set` would read back as the same string are written bare; anything else as JSON.
  const bare = typeof value === 'string' && parseSet(`${key}=${value}`).value === value;
  return `${key}=${bare ? value : JSON.stringify(value)}`;
}

function baseSetFlags(spec: SweepSpec): Result<string[], string> {
  const flags: string[] = [];
  for (const expression of spec.sets) {
    const override = parseSet(expression);
    if (override.path.join('.') === 'out') return err(`--set ${expression}: the sweep chooses each run's folder; use --out for the sweep folder`);
    flags.push(override.path.join('.') === 'data.dir' ? setFlagText(override, spec.cwd) : expression);
  }
  for (const override of shorthandOverrides(spec.shorthands)) flags.push(setFlagText(override, spec.cwd));
  return ok(flags);
}

/** A folder-name-safe rendering of a grid value: JSON punctuation dropped, anything else unusual as `_`. */
const folderLabel = (text: string): string =>
  text
    .replace(/[[\]{}"']+/g, '')
    .replace(/[^A-Za-z0-9._,+=@-]+/g, '_')
    .slice(0, 40) || '_';

/** `000-model.depth=20-seed=1`: the index keeps names unique and sorted; the values make them readable. */
export function runFolderName(combination: Combination, total: number): string {
  const width = Math.max(3, String(total - 1).length);
  const values = combination.assignments.map((a) => `${a.key}=${folderLabel(a.text)}`);
  return [String(combination.index).padStart(width, '0'), ...values].join('-');
}

const describeCombination = (c: Combination): string => c.assignments.map((a) => `${a.key}=${a.text}`).join(' ');

const MAX_REPORTED = 5;

/**
 * Expands the grid and validates every combination's config before anything runs. Bad input of any kind comes
 * back as error lines, each naming the combination and the problem.
 */
export function planSweep(spec: SweepSpec): Result<SweepPlan, string[]> {
  const axes = parseGrid(spec.grid);
  if (!axes.ok) return axes;
  let base: Result<string[], string>;
  try {
    base = baseSetFlags(spec);
  } catch (e) {
    if (e instanceof InputError) return err([e.message]);
    throw e;
  }
  if (!base.ok) return err([base.error]);
  const baseOverrides = base.value.map(parseSet);

  const combinations = expandGrid(axes.value);
  const configs: Config[] = [];
  const invalid: { combination: Combination; problems: string[] }[] = [];
  for (const combination of combinations) {
    const overrides = [...baseOverrides, ...combination.assignments.map((a) => ({ path: a.path, value: a.value }))];
    const loaded = loadConfig({ file: spec.configFile, overrides, dataDirEnv: spec.dataDirEnv, cwd: spec.cwd });
    if (loaded.ok) configs.push(loaded.value);
    else invalid.push({ combination, problems: loaded.error });
  }
  if (invalid.length > 0) {
    // The same problems in every combination come from the config or the flags, not from the grid: say them once.
    const first = invalid[0].problems.join('\n');
    if (invalid.length === combinations.length && invalid.every((i) => i.problems.join('\n') === first)) return err(invalid[0].problems);
    const lines = invalid
      .slice(0, MAX_REPORTED)
      .flatMap(({ combination, problems }) => problems.map((p) => `combination ${combination.index} (${describeCombination(combination)}): ${p}`));
    if (invalid.length > MAX_REPORTED) lines.push(`... and ${invalid.length - MAX_REPORTED} more invalid combinations`);
    return err(lines);
  }

  const dir = spec.out !== undefined ? resolve(spec.cwd, spec.out) : defaultRunDir(`${configs[0].name}-sweep`, spec.now, spec.cwd);
  const runs = combinations.map((combination, i) => {
    const folder = runFolderName(combination, combinations.length);
    const runDir = join(dir, folder);
    return { index: combination.index, folder, dir: runDir, assignments: combination.assignments, config: { ...configs[i], out: runDir } };
  });
  return ok({ dir, configFile: resolve(spec.cwd, spec.configFile), axes: axes.value, baseSets: base.value, runs });
}

/** `resnet-exp run` arguments that train one combination exactly as the sweep would. */
export const runArguments = (plan: SweepPlan, run: PlannedRun): string[] => [
  'run',
  plan.configFile,
  ...plan.baseSets.flatMap((s) => ['--set', s]),
  ...run.assignments.flatMap((a) => ['--set', `${a.key}=${a.text}`]),
  '--out',
  run.dir,
];

/** `resnet-exp sweep` arguments that rebuild this sweep (add `--index i` for one combination). */
export const sweepArguments = (plan: SweepPlan): string[] => [
  'sweep',
  plan.configFile,
  ...plan.axes.flatMap((a) => ['--grid', gridFlagValue(a)]),
  ...plan.baseSets.flatMap((s) => ['--set', s]),
  '--out',
  plan.dir,
];

/** The sweep.json this plan writes; a JSON round trip so that it compares equal to one read back from disk. */
export function sweepFileOf(plan: SweepPlan, cwd: string, now = new Date()): SweepFile {
  const file: SweepFile = {
    version: 1,
    created: now.toISOString(),
    cwd,
    command: ['resnet-exp', ...sweepArguments(plan)],
    grid: plan.axes.map((a) => ({ key: a.key, values: a.values.map((v) => v.value) })),
    runs: plan.runs.map((r) => ({
      index: r.index,
      folder: r.folder,
      values: Object.fromEntries(r.assignments.map((a) => [a.key, a.value])),
      config: r.config,
    })),
  };
  return sweepFileSchema.parse(JSON.parse(JSON.stringify(file)));
}

/**
 * Whether the sweep folder can take this sweep: new or empty, or holding the same sweep (its run folder names
 * are kept, so a rerun finds its runs). Anything else is refused with the reason.
 */
export function checkSweepFolder(plan: SweepPlan, planned: SweepFile): Result<SweepPlan, string> {
  if (!existsSync(plan.dir)) return ok(plan);
  if (!statSync(plan.dir).isDirectory()) return err(`${plan.dir} is not a folder; choose another --out`);
  const recorded = readSweepFile(plan.dir);
  if (!recorded.ok) return recorded;
  if (recorded.value === undefined) {
    // Run folders of this plan alone are what the --dry-run lines leave behind: the sweep takes them over.
    const ours = new Set([...plan.runs.map((r) => r.folder), '.attempts']);
    const stranger = readdirSync(plan.dir).find((entry) => !ours.has(entry));
    if (stranger === undefined) return ok(plan);
    return err(`${plan.dir} already exists and holds no ${SWEEP_FILE} (but ${stranger}); choose another --out for the sweep`);
  }
  const mismatch = sweepMismatch(recorded.value, planned);
  if (mismatch) {
    return err(
      `${plan.dir} holds a different sweep: ${mismatch}. Choose another --out, or rerun it with its own arguments: ` +
        shellJoin(recorded.value.command),
    );
  }
  const folders = recorded.value.runs.map((r) => r.folder);
  return ok({
    ...plan,
    runs: plan.runs.map((r, i) => ({ ...r, folder: folders[i], dir: join(plan.dir, folders[i]), config: { ...r.config, out: join(plan.dir, folders[i]) } })),
  });
}

/** Writes sweep.json unless the folder has one (checked to be this sweep's by `checkSweepFolder`). */
export function writeSweepFile(plan: SweepPlan, file: SweepFile): void {
  const path = join(plan.dir, SWEEP_FILE);
  if (existsSync(path)) return;
  try {
    mkdirSync(plan.dir, { recursive: true });
    writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
  } catch (e) {
    // Array tasks started together may race to write it; one winning is enough.
    if (existsSync(path)) return;
    throw new InputError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

const summaryStatusSchema = z.looseObject({ status: z.string() });

export type RunState =
  | { kind: 'completed'; summary: RunSummary }
  | { kind: 'absent' }
  /** The folder holds an interrupted, crashed or unreadable run. */
  | { kind: 'incomplete'; reason: string };

/** A run is done when its folder has a summary.json whose status is `completed`. */
export function runState(runDir: string): RunState {
  if (!existsSync(runDir)) return { kind: 'absent' };
  const path = runPaths(runDir).summary;
  if (!existsSync(path)) return readdirSync(runDir).length === 0 ? { kind: 'absent' } : { kind: 'incomplete', reason: 'no summary.json' };
  try {
    const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
    const parsed = summaryStatusSchema.safeParse(json);
    if (!parsed.success) return { kind: 'incomplete', reason: 'summary.json has no status' };
    // Written by runExperiment, which is the only writer of summary.json.
    if (parsed.data.status === 'completed') return { kind: 'completed', summary: json as RunSummary };
    return { kind: 'incomplete', reason: `status ${parsed.data.status}` };
  } catch {
    return { kind: 'incomplete', reason: 'summary.json is not readable JSON' };
  }
}

/**
 * Moves an earlier, unfinished attempt out of the way so the run starts clean, keeping what it wrote:
 * `<sweep>/.attempts/<folder>-<UTC time>`. Returns where it went.
 */
export function setAsideAttempt(plan: SweepPlan, run: PlannedRun, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const attempts = join(plan.dir, '.attempts');
  mkdirSync(attempts, { recursive: true });
  let target = join(attempts, `${run.folder}-${stamp}`);
  for (let n = 2; existsSync(target); n++) target = join(attempts, `${run.folder}-${stamp}-${n}`);
  renameSync(run.dir, target);
  return target;
}
