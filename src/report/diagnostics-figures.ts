import type { TopLevelSpec } from 'vega-lite';
import { VARIANTS } from '../config/schema.js';
import { err, ok, type Result } from '../result.js';
import type { DiagnosticKind } from '../record/diagnostics-csv.js';
import type { DiagnosticsRun } from './diagnostics-runs.js';
import { FIGURE_CONFIG, fitSvg, inFormat, type FigureFormat, type Padding } from './plot.js';

/** One plotted value: a layer of a network at a step, averaged over the seeds (and run folders) that have it. */
export interface LayerPoint {
  variant: string;
  depth: number;
  step: number;
  /** The paper's layer index (1-based; see diagnostics.csv's `index`). */
  index: number;
  layer: string;
  value: number;
  /** Seeds averaged. */
  n: number;
}

const VARIANT_ORDER: readonly string[] = VARIANTS;
const rank = (variant: string): number => {
  const r = VARIANT_ORDER.indexOf(variant);
  return r < 0 ? VARIANT_ORDER.length : r;
};
const byNetwork = (a: { variant: string; depth: number }, b: { variant: string; depth: number }): number =>
  rank(a.variant) - rank(b.variant) || a.variant.localeCompare(b.variant) || a.depth - b.depth;

/**
 * The points of one kind at the chosen steps: `steps` when given (each network at those of them it recorded),
 * otherwise responses at each network's last diagnostics step (the end of training) and gradients at its first
 * and last. Layers without an index (projection shortcuts) are left out: they are not on the plotted axis.
 */
export function layerPoints(runs: readonly DiagnosticsRun[], kind: DiagnosticKind, steps?: readonly number[]): Result<LayerPoint[]> {
  const sums = new Map<string, LayerPoint>();
  const stepsOf = new Map<string, Set<number>>();
  for (const run of runs) {
    for (const r of run.rows) {
      if (r.kind !== kind || r.index === null) continue;
      const net = `${r.variant}-${r.depth}`;
      if (!stepsOf.has(net)) stepsOf.set(net, new Set());
      stepsOf.get(net)!.add(r.step);
      const key = `${net}|${r.step}|${r.index}`;
      const p = sums.get(key);
      if (p) {
        p.value += r.value;
        p.n += 1;
      } else {
        sums.set(key, { variant: r.variant, depth: r.depth, step: r.step, index: r.index, layer: r.layer, value: r.value, n: 1 });
      }
    }
  }
  if (sums.size === 0) return err(`no ${kind} rows in ${runs.map((r) => r.dir).join(', ')}: nothing to plot`);
  const chosen = new Map<string, Set<number>>();
  for (const [net, recorded] of stepsOf) {
    const sorted = [...recorded].sort((a, b) => a - b);
    const wanted = steps ?? (kind === 'grad_norm' ? [sorted[0], sorted[sorted.length - 1]] : [sorted[sorted.length - 1]]);
    chosen.set(net, new Set(wanted.filter((s) => recorded.has(s))));
  }
  const points = [...sums.values()]
    .filter((p) => chosen.get(`${p.variant}-${p.depth}`)!.has(p.step))
    .map((p) => ({ ...p, value: p.value / p.n }));
  if (points.length === 0) {
    const recorded = [...stepsOf].map(([net, s]) => `${net}: ${[...s].sort((a, b) => a - b).join(',')}`).join('; ');
    return err(`no network recorded ${kind} at step(s) ${steps!.join(',')}; recorded steps: ${recorded}`);
  }
  return ok(points.sort((a, b) => byNetwork(a, b) || a.step - b.step || a.index - b.index));
}

export interface DiagnosticsFigureOptions {
  width: number;
  height: number;
  title?: string;
}

/** The label of a line: the network, and its step unless every line is at the same one. */
function seriesLabels(points: readonly LayerPoint[]): (p: LayerPoint) => string {
  const oneStep = new Set(points.map((p) => p.step)).size === 1;
  return (p) => (oneStep ? `${p.variant}-${p.depth}` : `${p.variant}-${p.depth}, step ${p.step}`);
}

/** Largest over smallest response beyond which the responses figure switches to a log axis. */
const LOG_SPREAD = 20;
const ORIGINAL = 'original order';
const SORTED = 'sorted by magnitude';

/**
 * He et al. 2015, Fig. 7: the std of each 3x3 layer's response against its index, one line per network; left in
 * the network's order, right sorted by magnitude (largest first), as in the paper.
 */
export function responsesSpec(points: readonly LayerPoint[], options: DiagnosticsFigureOptions, cell: { width: number; height: number }, padding: Padding): TopLevelSpec {
  const label = seriesLabels(points);
  const data: { panel: string; series: string; index: number; value: number; layer: string }[] = [];
  const series = new Map<string, LayerPoint[]>();
  for (const p of points) {
    const s = label(p);
    if (!series.has(s)) series.set(s, []);
    series.get(s)!.push(p);
  }
  for (const [s, ps] of series) {
    for (const p of ps) data.push({ panel: ORIGINAL, series: s, index: p.index, value: p.value, layer: p.layer });
    [...ps].sort((a, b) => b.value - a.value).forEach((p, i) => data.push({ panel: SORTED, series: s, index: i + 1, value: p.value, layer: p.layer }));
  }
  const steps = [...new Set(points.map((p) => p.step))];
  // The paper's axis is linear; when one network's responses dwarf the others' (a deep plain net early in
  // training), a log axis keeps the rest readable.
  const values = points.map((p) => p.value).filter((v) => v > 0);
  const log = values.length > 0 && Math.max(...values) / Math.min(...values) > LOG_SPREAD;
  // Short: a vertical axis title longer than the panels are high would set the figure's height.
  const yTitle = log ? 'response std (log scale)' : 'response std';
  const xTitle = steps.length === 1 ? `layer index (iteration ${steps[0]})` : 'layer index';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title ? { title: { text: options.title, anchor: 'middle', fontSize: 14, offset: 12 } } : {}),
    background: 'white',
    padding,
    config: FIGURE_CONFIG,
    data: { values: data },
    facet: { column: { field: 'panel', type: 'nominal', sort: [ORIGINAL, SORTED], title: null, header: { labelFontSize: 13, labelFontWeight: 'bold' } } },
    spec: {
      width: cell.width,
      height: cell.height,
      mark: { type: 'line', strokeWidth: 1.4, point: { size: 12 } },
      encoding: {
        x: { field: 'index', type: 'quantitative', title: xTitle, scale: { zero: false, nice: false }, axis: { tickMinStep: 1, format: 'd' } },
        y: { field: 'value', type: 'quantitative', title: yTitle, scale: log ? { type: 'log' } : { zero: true } },
        color: { field: 'series', type: 'nominal', title: null, sort: [...series.keys()], scale: { scheme: 'category10' }, legend: { symbolType: 'stroke', symbolStrokeWidth: 2 } },
        description: { field: 'series' },
      },
    },
    resolve: { scale: { y: 'shared', x: 'shared' } },
  };
}

/**
 * Gradient norm of each weighted layer against its index, log scale: a panel per variant, a line per depth and
 * step, so a gradient that vanishes toward the input shows as a line falling to the left.
 */
export function gradientsSpec(points: readonly LayerPoint[], options: DiagnosticsFigureOptions, cell: { width: number; height: number }, padding: Padding): TopLevelSpec {
  const lineOf = (p: LayerPoint) => `${p.depth}-layer, step ${p.step}`;
  const data = points.map((p) => ({
    panel: p.variant,
    order: rank(p.variant),
    line: lineOf(p),
    series: `${p.variant}-${p.depth}, step ${p.step}`,
    index: p.index,
    value: p.value,
    layer: p.layer,
  }));
  const panels = [...new Set([...points].sort(byNetwork).map((p) => p.variant))];
  const lines = [...new Set([...points].sort((a, b) => a.depth - b.depth || a.step - b.step).map(lineOf))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title ? { title: { text: options.title, anchor: 'middle', fontSize: 14, offset: 12 } } : {}),
    background: 'white',
    padding,
    config: FIGURE_CONFIG,
    data: { values: data },
    facet: { column: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelFontSize: 13, labelFontWeight: 'bold' } } },
    spec: {
      width: cell.width,
      height: cell.height,
      mark: { type: 'line', strokeWidth: 1.4, point: { size: 12 } },
      encoding: {
        x: { field: 'index', type: 'quantitative', title: 'layer index (input → output)', scale: { zero: false, nice: false }, axis: { tickMinStep: 1, format: 'd' } },
        y: { field: 'value', type: 'quantitative', title: 'gradient L2 norm (log scale)', scale: { type: 'log' } },
        color: { field: 'line', type: 'nominal', title: null, sort: lines, scale: { scheme: 'category10' }, legend: { symbolType: 'stroke', symbolStrokeWidth: 2 } },
        description: { field: 'series' },
      },
    },
    resolve: { scale: { y: 'shared', x: 'shared' } },
  };
}

export type DiagnosticsFigure = 'responses' | 'gradients';

/** The figure at the requested size, as SVG or PNG. */
export async function renderDiagnosticsFigure(
  figure: DiagnosticsFigure,
  points: readonly LayerPoint[],
  format: FigureFormat,
  options: DiagnosticsFigureOptions,
): Promise<Result<string | Uint8Array>> {
  const panels = figure === 'responses' ? 2 : new Set(points.map((p) => p.variant)).size || 1;
  const spec = figure === 'responses' ? responsesSpec : gradientsSpec;
  const svg = await fitSvg(panels, options, (cell, padding) => spec(points, options, cell, padding));
  return inFormat(svg, format, options.width);
}
