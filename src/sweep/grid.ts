import { parseSet, type Override } from '../config/index.js';
import { err, InputError, ok, type Result } from '../result.js';

/** One value of a grid axis: the text as typed (for folder names and command lines) and what it parses to. */
export interface GridValue {
  text: string;
  value: unknown;
}

/** `--grid key.path=v1,v2,...`: one axis of the cartesian product. */
export interface GridAxis {
  key: string;
  path: string[];
  values: GridValue[];
}

/** One point of the grid: a value for every axis, in axis order. */
export interface Assignment {
  key: string;
  path: string[];
  text: string;
  value: unknown;
}

export interface Combination {
  index: number;
  assignments: Assignment[];
}

/** More runs than anyone means to launch from one command, and than Slurm's default MaxArraySize allows. */
export const MAX_COMBINATIONS = 10_000;

/**
 * Splits at commas outside brackets, braces and double quotes, so JSON values keep theirs:
 * `model.variants=["plain","residual"],["preact"]` is two values.
 */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if ((c === ']' || c === '}') && depth > 0) depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const valueKey = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** Parses one `--grid` flag; values are parsed like `--set` values (JSON when they parse). */
export function parseGridFlag(expression: string): Result<GridAxis, string> {
  const label = `--grid ${expression}`;
  const eq = expression.indexOf('=');
  if (eq <= 0) return err(`${label}: expected key.path=v1,v2,... (e.g. model.depth=20,32)`);
  const key = expression.slice(0, eq).trim();
  if (key === 'out') return err(`${label}: the sweep chooses each run's folder; use --out for the sweep folder`);
  const texts = splitTopLevel(expression.slice(eq + 1));
  const values: GridValue[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of texts.entries()) {
    const text = raw.trim();
    if (text === '') return err(`${label}: value ${i + 1} is empty`);
    let override: Override;
    try {
      override = parseSet(`${key}=${text}`);
    } catch (e) {
      return err(e instanceof InputError ? e.message.replace(/^--set /, '--grid ') : String(e));
    }
    const id = valueKey(override.value);
    if (seen.has(id)) return err(`${label}: value ${text} is given twice`);
    seen.add(id);
    values.push({ text, value: override.value });
  }
  return ok({ key, path: key.split('.'), values });
}

const isPrefix = (a: string[], b: string[]): boolean => a.length <= b.length && a.every((part, i) => part === b[i]);

/** All `--grid` flags; one problem per line. Two axes may not set the same key or one inside the other. */
export function parseGrid(expressions: readonly string[]): Result<GridAxis[], string[]> {
  if (expressions.length === 0) return err(['give at least one --grid key.path=v1,v2,... (e.g. --grid seed=1,2,3)']);
  const problems: string[] = [];
  const axes: GridAxis[] = [];
  for (const expression of expressions) {
    const axis = parseGridFlag(expression);
    if (!axis.ok) {
      problems.push(axis.error);
      continue;
    }
    const clash = axes.find((a) => isPrefix(a.path, axis.value.path) || isPrefix(axis.value.path, a.path));
    if (clash) problems.push(`--grid ${axis.value.key}: overlaps --grid ${clash.key}; give each key once`);
    else axes.push(axis.value);
  }
  if (problems.length > 0) return err(problems);
  const count = combinationCount(axes);
  if (count > MAX_COMBINATIONS) return err([`the grid has ${count} combinations; at most ${MAX_COMBINATIONS} per sweep`]);
  return ok(axes);
}

export const combinationCount = (axes: readonly GridAxis[]): number => axes.reduce((n, a) => n * a.values.length, 1);

/** The cartesian product, first axis outermost (it changes slowest), values in the order given. */
export function expandGrid(axes: readonly GridAxis[]): Combination[] {
  const points = axes.reduce<Assignment[][]>(
    (acc, axis) => acc.flatMap((prefix) => axis.values.map((v) => [...prefix, { key: axis.key, path: axis.path, ...v }])),
    [[]],
  );
  return points.map((assignments, index) => ({ index, assignments }));
}

/** The grid as `--grid` flag values, for command lines that must rebuild the same sweep. */
export const gridFlagValue = (axis: GridAxis): string => `${axis.key}=${axis.values.map((v) => v.text).join(',')}`;
