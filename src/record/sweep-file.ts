import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { configSchema } from '../config/index.js';
import { err, ok, type Result } from '../result.js';

export const SWEEP_FILE = 'sweep.json';

/**
 * `<sweep folder>/sweep.json`: what a sweep is, written before any of its runs starts. `report` and reruns read
 * it; each run's folder is `folder` relative to the sweep folder, so a sweep folder can be moved as a whole.
 */
export const sweepFileSchema = z.object({
  version: z.literal(1),
  created: z.string(),
  /** The folder the sweep was started from; relative paths in `command` are relative to it. */
  cwd: z.string(),
  /** A `resnet-exp sweep` command line (argv) that rebuilds this sweep. */
  command: z.array(z.string()),
  grid: z.array(z.object({ key: z.string(), values: z.array(z.unknown()) })),
  runs: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      folder: z.string().min(1),
      /** The grid value of each axis, keyed by the config key. */
      values: z.record(z.string(), z.unknown()),
      /** The validated config the run uses (its `out` is the run folder). */
      config: configSchema,
    }),
  ),
});

export type SweepFile = z.infer<typeof sweepFileSchema>;

/** The sweep.json of `dir`; `undefined` when there is none. */
export function readSweepFile(dir: string): Result<SweepFile | undefined, string> {
  const path = join(dir, SWEEP_FILE);
  if (!existsSync(path)) return ok(undefined);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return err(`${path}: not readable JSON (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  const parsed = sweepFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return err(`${path}: not a resnet-exp sweep file (${issue.path.join('.') || 'top level'}: ${issue.message})`);
  }
  return ok(parsed.data);
}

const show = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** The first key path where two JSON-like values differ, with both values; `undefined` when equal. */
export function firstDifference(a: unknown, b: unknown, path: string[] = []): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isRecord(a) && isRecord(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])]) {
      const found = firstDifference(a[key], b[key], [...path, key]);
      if (found) return found;
    }
  }
  return `${path.join('.') || '(top level)'} is ${show(a)} there, ${show(b)} here`;
}

/** The run folder lives in the sweep folder; where it was when recorded doesn't make runs different. */
const withoutOut = <T extends { out?: string }>(config: T): Omit<T, 'out'> => {
  const { out: _out, ...rest } = config;
  return rest;
};

/**
 * Why a recorded sweep is not the one planned now (a different grid or different configs), or `undefined`
 * when they are the same sweep and its folder can be reused.
 */
export function sweepMismatch(recorded: SweepFile, planned: SweepFile): string | undefined {
  const gridText = (f: SweepFile) => f.grid.map((g) => `${g.key}=${g.values.map(show).join(',')}`).join(' ');
  if (!isDeepStrictEqual(recorded.grid, planned.grid)) {
    return `its grid is ${gridText(recorded)}, this command's is ${gridText(planned)}`;
  }
  for (const [i, run] of recorded.runs.entries()) {
    const now = planned.runs[i];
    const difference = firstDifference(withoutOut(run.config), withoutOut(now.config));
    if (difference) return `combination ${i} (${run.folder}) differs: ${difference}`;
  }
  return undefined;
}
