import { isDeepStrictEqual } from 'node:util';

/**
 * Config keys that do not change what a network learns, or that say which networks a run trains (those are the
 * report's rows already): runs differing only in these are seeds of the same experiment.
 */
const NOT_THE_EXPERIMENT = [
  'name',
  'seed',
  'seeds',
  'backend',
  'out',
  'run',
  'data.dir',
  'model.depth',
  'model.depths',
  'model.variants',
  'eval',
  'log',
  'checkpoint',
  'diagnostics',
];

const ignored = (path: string): boolean => NOT_THE_EXPERIMENT.some((k) => path === k || path.startsWith(`${k}.`));

/** The config's leaves as `a.b.c` → value; arrays are leaves (a milestone list is one setting). */
function leaves(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix && !ignored(prefix)) {
    out.set(prefix, value);
  }
  return out;
}

const shown = (v: unknown): string => (v === undefined ? '–' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * One label per run naming the settings in which the runs differ (`model.shortcut=B train.lr=0.05`), so that
 * networks of different experiments are reported side by side instead of pooled as seeds; null for every run
 * when they all share one setting.
 */
export function settingLabels(configs: readonly Record<string, unknown>[]): (string | null)[] {
  const flat = configs.map((c) => leaves(c));
  const keys = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
  const differing = keys.filter((k) => flat.some((f) => !isDeepStrictEqual(f.get(k), flat[0].get(k))));
  if (differing.length === 0) return configs.map(() => null);
  return flat.map((f) => differing.map((k) => `${k}=${shown(f.get(k))}`).join(' '));
}
