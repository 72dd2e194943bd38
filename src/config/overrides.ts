import { InputError } from '../result.js';

/** A plain JSON-like object as read from a config file, before validation. */
export type RawConfig = { [key: string]: unknown };

export interface Override {
  /** Dotted key path, e.g. `train.lr`. */
  path: string[];
  value: unknown;
}

/** `key.path=value`: the value is parsed as JSON when it parses (numbers, booleans, arrays), else kept as a string. */
export function parseSet(expression: string): Override {
  const eq = expression.indexOf('=');
  if (eq <= 0) throw new InputError(`--set ${expression}: expected key.path=value`);
  const key = expression.slice(0, eq).trim();
  const path = key.split('.');
  if (path.some((part) => part === '')) throw new InputError(`--set ${expression}: empty key in "${key}"`);
  return { path, value: parseValue(expression.slice(eq + 1)) };
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const isObject = (v: unknown): v is RawConfig => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sets `value` at `path`, creating objects on the way; returns a new object and leaves `raw` untouched. */
export function applyOverride(raw: RawConfig, { path, value }: Override): RawConfig {
  const [head, ...rest] = path;
  if (rest.length === 0) return { ...raw, [head]: value };
  const child = raw[head];
  return { ...raw, [head]: applyOverride(isObject(child) ? child : {}, { path: rest, value }) };
}

export function deleteKey(raw: RawConfig, path: string[]): RawConfig {
  const [head, ...rest] = path;
  if (!(head in raw)) return raw;
  if (rest.length === 0) {
    const { [head]: _removed, ...kept } = raw;
    return kept;
  }
  const child = raw[head];
  return isObject(child) ? { ...raw, [head]: deleteKey(child, rest) } : raw;
}

export function getKey(raw: RawConfig, path: string[]): unknown {
  let node: unknown = raw;
  for (const part of path) {
    if (!isObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/**
 * The command-line shorthands for the keys sweeps change most. `--depth 20,56` trains several depths;
 * a single `--depth` replaces any `model.depths` list so the run has exactly the depth asked for.
 */
export interface Shorthands {
  depth?: string;
  seed?: number;
  /** Comma list: several seeds in one run. */
  seeds?: string;
  iterations?: number;
  backend?: string;
  /** A count or `adaptive`. */
  threads?: string;
  dataDir?: string;
  out?: string;
  name?: string;
}

export function shorthandOverrides(flags: Shorthands): Override[] {
  const overrides: Override[] = [];
  if (flags.depth !== undefined) {
    const depths = String(flags.depth)
      .split(',')
      .map((d) => parseValue(d.trim()));
    overrides.push(
      depths.length === 1
        ? { path: ['model', 'depth'], value: depths[0] }
        : { path: ['model', 'depths'], value: depths },
    );
  }
  if (flags.seed !== undefined) overrides.push({ path: ['seed'], value: flags.seed });
  if (flags.seeds !== undefined) {
    overrides.push({ path: ['seeds'], value: String(flags.seeds).split(',').map((s) => parseValue(s.trim())) });
  }
  if (flags.iterations !== undefined) overrides.push({ path: ['train', 'iterations'], value: flags.iterations });
  if (flags.backend !== undefined) overrides.push({ path: ['backend'], value: flags.backend });
  if (flags.threads !== undefined) overrides.push({ path: ['threads'], value: parseValue(String(flags.threads).trim()) });
  if (flags.dataDir !== undefined) overrides.push({ path: ['data', 'dir'], value: flags.dataDir });
  if (flags.out !== undefined) overrides.push({ path: ['out'], value: flags.out });
  if (flags.name !== undefined) overrides.push({ path: ['name'], value: flags.name });
  return overrides;
}
