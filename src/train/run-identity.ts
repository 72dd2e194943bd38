import { isDeepStrictEqual } from 'node:util';
import { configSchema, type Config } from '../config/schema.js';

/**
 * What a run's config.json fixes for the run's whole life, as plain JSON: the resolved config and the backend
 * and thread count it started on. Every checkpoint carries a copy (under the manifest's checksum), and resume
 * refuses a config.json that no longer matches it, since continuing with another seed, rate or set of networks
 * would splice two different experiments into one curve.
 *
 * Left out, because they say where things are rather than what is computed, and so may change when a run
 * folder or the data moves to another machine: `out` (the folder itself) and `data.dir`. The backend and thread
 * count may be changed at resume only by its flags, never by editing config.json.
 */
export type RunIdentity = Record<string, unknown>;

export function runIdentity(config: Config, run: { backend?: unknown; threads?: unknown } | undefined): RunIdentity {
  const { out: _out, data, ...rest } = config;
  const { dir: _dir, ...dataRest } = data;
  // Through JSON so an in-memory config (with keys set to undefined) equals the same config read back from disk.
  return JSON.parse(JSON.stringify({ ...rest, data: dataRest, run: { backend: run?.backend ?? null, threads: run?.threads ?? null } })) as RunIdentity;
}

/**
 * An identity recorded by an earlier resnet-exp, with the keys added since then at their defaults: every new key's
 * default is what that version did, so a checkpoint written before `model.block` existed matches a config.json
 * that now reads `model.block: basic`. An identity this version cannot read is returned as it is.
 */
export function withNewDefaults(identity: RunIdentity): RunIdentity {
  const { run, ...config } = identity;
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) return identity;
  const r = isRecord(run) ? run : {};
  return runIdentity(parsed.data, { backend: r.backend ?? undefined, threads: r.threads ?? undefined });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Dotted keys whose values differ (an array counts as one value), in the order met. */
export function changedKeys(a: unknown, b: unknown, path: string[] = []): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (!isRecord(a) || !isRecord(b)) return [path.join('.') || '(top level)'];
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((key) => changedKeys(a[key], b[key], [...path, key]));
}

const valueAt = (v: unknown, key: string): unknown =>
  key === '(top level)' ? v : key.split('.').reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), v);
const show = (v: unknown): string => (v === undefined ? 'absent' : JSON.stringify(v));

/** `seed (run 1, now 5), train.lr (run 0.1, now 0.2)` with the default labels, or `undefined` when nothing differs. */
export function describeChanges(run: RunIdentity, now: RunIdentity, labels: [string, string] = ['run', 'now']): string | undefined {
  const keys = changedKeys(run, now);
  if (keys.length === 0) return undefined;
  return keys.map((k) => `${k} (${labels[0]} ${show(valueAt(run, k))}, ${labels[1]} ${show(valueAt(now, k))})`).join(', ');
}
