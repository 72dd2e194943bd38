import { labelOf, type NetworkReport, type Stat } from './aggregate.js';
import { rankingLine, rankings, type Ranking } from './ranking.js';

/**
 * "Well below": a deeper shortcut net counts as partly removing the degradation when its final training error
 * is below the plain net's of the same depth by more than this (2 percentage points of error) and by more than
 * the seeds' spread. An absolute floor because with one seed there is no spread to measure, and a point or so
 * of training error moves between seeds of these short runs.
 */
export const WELL_BELOW = 0.02;

export type DegradationOutcome = 'observed' | 'not-observed' | 'within-noise';
export type FixOutcome = 'full' | 'partial' | 'none' | 'not-applicable';

export interface FixVerdict {
  variant: string;
  outcome: FixOutcome;
  /** Final training errors (seed means) of the shallower and deeper net of this variant. */
  shallow: number;
  deep: number;
  /** Deeper plain minus deeper shortcut net: what the shortcuts bought at the deeper depth. */
  below_plain_by: number;
  /** below_plain_by as a share of the plain nets' gap (1 = all of the degradation removed); null without one. */
  recovered: number | null;
  text: string;
}

export interface DepthComparison {
  /** The setting compared within (see NetworkReport.setting); null when all runs share one. */
  setting: string | null;
  shallow_depth: number;
  deep_depth: number;
  degradation: {
    outcome: DegradationOutcome;
    shallow: number;
    deep: number;
    /** Deeper minus shallower plain net. */
    gap: number;
    /** The larger of the two nets' standard deviations over seeds; at least WELL_BELOW when either has one seed. */
    noise: number;
    text: string;
  };
  fixes: FixVerdict[];
}

export interface Verdicts {
  comparisons: DepthComparison[];
  /** Where three or more networks share a setting and depth: them in order of final test error. */
  rankings: Ranking[];
  /** Everything as plain-language lines, in order. */
  lines: string[];
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const points = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(2)} points`;
const withStd = (s: Stat): string => `${pct(s.mean as number)}${s.std === null ? '' : ` ± ${(s.std * 100).toFixed(2)}`}`;
const noiseOf = (...stats: Stat[]): number => Math.max(0, ...stats.map((s) => s.std ?? 0));

/**
 * Compares each deeper depth with the shallowest, by final training error (the paper's degradation is about
 * optimisation, so training error, not test error). Degradation: the deeper plain net ends higher by more than
 * the seeds' spread. Shortcuts remove it fully when the deeper shortcut net ends at or below the shallower one,
 * partly when it ends well below (see WELL_BELOW) the deeper plain net.
 */
export function verdicts(networks: readonly NetworkReport[]): Verdicts {
  const settings = [...new Set(networks.map((n) => n.setting))];
  const lines: string[] = [];
  const comparisons: DepthComparison[] = [];
  for (const n of networks) {
    if (n.diverged > 0) lines.push(`${labelOf(n)}: ${n.diverged} of ${n.seeds} seed${n.seeds > 1 ? 's' : ''} diverged and ${n.diverged > 1 ? 'are' : 'is'} left out of its errors.`);
  }
  for (const setting of settings) {
    const v = verdictsWithin(networks.filter((n) => n.setting === setting), setting);
    lines.push(...(setting === null ? v.lines : v.lines.map((l) => `[${setting}] ${l}`)));
    comparisons.push(...v.comparisons);
  }
  const ranked = rankings(networks);
  lines.push(...ranked.map(rankingLine));
  return { comparisons, rankings: ranked, lines };
}

/** Verdicts among networks of one setting. */
function verdictsWithin(networks: readonly NetworkReport[], setting: string | null): Omit<Verdicts, 'rankings'> {
  const withTrain = networks.filter((n) => n.final_train_error.mean !== null);
  const find = (variant: string, depth: number) => withTrain.find((n) => n.variant === variant && n.depth === depth);
  const plainDepths = [...new Set(withTrain.filter((n) => n.variant === 'plain').map((n) => n.depth))].sort((a, b) => a - b);
  const shortcutVariants = [...new Set(withTrain.filter((n) => n.variant !== 'plain').map((n) => n.variant))];
  const lines: string[] = [];
  const comparisons: DepthComparison[] = [];

  if (plainDepths.length < 2) {
    const lost = networks.filter((n) => n.variant === 'plain' && n.final_train_error.mean === null).map((n) => labelOf(n));
    lines.push(
      (plainDepths.length === 0
        ? 'No plain network with a final training error: degradation cannot be judged.'
        : `Only one plain depth (${plainDepths[0]}): degradation needs two depths to compare.`) +
        (lost.length > 0 ? ` (${lost.join(', ')}: no final training error, every seed diverged.)` : ''),
    );
    return { comparisons, lines };
  }

  const shallowDepth = plainDepths[0];
  for (const deepDepth of plainDepths.slice(1)) {
    const ps = find('plain', shallowDepth) as NetworkReport;
    const pd = find('plain', deepDepth) as NetworkReport;
    const shallow = ps.final_train_error.mean as number;
    const deep = pd.final_train_error.mean as number;
    const gap = deep - shallow;
    // One seed has no spread to measure; a gap smaller than the WELL_BELOW floor is then not evidence either.
    const oneSeed = Math.min(ps.final_train_error.values.length, pd.final_train_error.values.length) < 2;
    const noise = oneSeed ? Math.max(WELL_BELOW, noiseOf(ps.final_train_error, pd.final_train_error)) : noiseOf(ps.final_train_error, pd.final_train_error);
    const outcome: DegradationOutcome = gap > noise ? 'observed' : gap > 0 ? 'within-noise' : 'not-observed';
    const head = `plain-${deepDepth} ${withStd(pd.final_train_error)} vs plain-${shallowDepth} ${withStd(ps.final_train_error)} final training error (${points(gap)})`;
    const text =
      outcome === 'observed'
        ? `Degradation observed: ${head}.`
        : outcome === 'within-noise'
          ? `Degradation not shown: ${head}, within ${oneSeed ? `the ${(WELL_BELOW * 100).toFixed(0)} points one seed cannot resolve` : `the seeds' spread (${(noise * 100).toFixed(2)} points)`}.`
          : `No degradation: ${head}; the deeper plain net trains at least as well.`;
    lines.push(text);

    const fixes: FixVerdict[] = [];
    for (const variant of shortcutVariants) {
      const rs = find(variant, shallowDepth);
      const rd = find(variant, deepDepth);
      if (!rs || !rd) continue;
      const rShallow = rs.final_train_error.mean as number;
      const rDeep = rd.final_train_error.mean as number;
      const belowPlain = deep - rDeep;
      const recovered = gap > 0 ? belowPlain / gap : null;
      const wellBelow = belowPlain > Math.max(WELL_BELOW, noiseOf(pd.final_train_error, rd.final_train_error));
      const fixOutcome: FixOutcome =
        outcome !== 'observed' ? 'not-applicable' : rDeep <= rShallow ? 'full' : wellBelow ? 'partial' : 'none';
      const facts =
        `${variant}-${deepDepth} ${withStd(rd.final_train_error)} vs ${variant}-${shallowDepth} ${withStd(rs.final_train_error)}, ` +
        `${points(-belowPlain)} against plain-${deepDepth}`;
      const share = recovered === null ? '' : `, ${Math.round(recovered * 100)}% of the plain nets' gap`;
      const fixText = {
        full: `${variant} removes it fully: ${facts}${share}.`,
        partial: `${variant} removes it partly: ${facts}${share}; still ${((rDeep - rShallow) * 100).toFixed(2)} points above ${variant}-${shallowDepth}.`,
        none: `${variant} does not remove it: ${facts}${share} (not well below: needs more than ${(WELL_BELOW * 100).toFixed(0)} points and the seeds' spread).`,
        'not-applicable': `${variant}: nothing to remove at ${shallowDepth}→${deepDepth}; ${facts}.`,
      }[fixOutcome];
      lines.push(`  ${fixText}`);
      fixes.push({ variant, outcome: fixOutcome, shallow: rShallow, deep: rDeep, below_plain_by: belowPlain, recovered, text: fixText });
    }
    comparisons.push({ setting, shallow_depth: shallowDepth, deep_depth: deepDepth, degradation: { outcome, shallow, deep, gap, noise, text }, fixes });
  }
  return { comparisons, lines };
}
