import type { NetworkReport } from './aggregate.js';

/**
 * Networks of one setting and depth in order of final test error, best first: how the 2016 paper's Tables 1
 * and 2 compare its shortcuts and activation orders, one row per unit at one depth. Made where at least
 * `MIN_RANKED` networks share a setting and depth (with two, the table already reads as a comparison).
 */
export const MIN_RANKED = 3;

export interface Ranking {
  setting: string | null;
  depth: number;
  /** Best first; seed means of the final test error (fraction), with the seeds' standard deviation. */
  order: { variant: string; error: number; std: number | null }[];
  /** Networks of this setting and depth with no final test error (every seed diverged). */
  unranked: string[];
}

export function rankings(networks: readonly NetworkReport[]): Ranking[] {
  const groups = new Map<string, NetworkReport[]>();
  for (const n of networks) {
    const key = `${n.setting ?? ''}\u0000${n.depth}`;
    groups.set(key, [...(groups.get(key) ?? []), n]);
  }
  return [...groups.values()]
    .filter((group) => group.length >= MIN_RANKED)
    .map((group) => ({
      setting: group[0].setting,
      depth: group[0].depth,
      order: group
        .filter((n) => n.final_test_error.mean !== null)
        .map((n) => ({ variant: n.variant, error: n.final_test_error.mean as number, std: n.final_test_error.std }))
        .sort((a, b) => a.error - b.error),
      unranked: group.filter((n) => n.final_test_error.mean === null).map((n) => n.variant),
    }));
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

export function rankingLine(r: Ranking): string {
  const order = r.order.map((o) => `${o.variant} ${pct(o.error)}${o.std === null ? '' : ` ± ${(o.std * 100).toFixed(2)}`}`).join(' < ');
  const rest = r.unranked.length > 0 ? `; no test error (diverged): ${r.unranked.join(', ')}` : '';
  const text = `Depth ${r.depth} by final test error, best first: ${order || '–'}${rest}.`;
  return r.setting === null ? text : `[${r.setting}] ${text}`;
}
