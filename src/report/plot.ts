import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import { parse as parseVega, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Transform } from 'vega-lite/types_unstable/transform.js';
import { VARIANTS } from '../config/schema.js';
import { err, ok, type Result } from '../result.js';
import type { CurveMetric } from './aggregate.js';
import type { MetricsRow } from '../record/metrics-csv.js';

export type FigureFormat = 'svg' | 'png';

export interface FigureOptions {
  metric: CurveMetric;
  /** Size of the whole figure in pixels (the PNG's exact size; the SVG's to within the layout's rounding). */
  width: number;
  height: number;
  title?: string;
}

const PANEL_TITLES: Record<string, string> = { plain: 'plain', residual: 'residual (ResNet)', preact: 'pre-activation ResNet' };
/** Pixels of white around the figure; the right and bottom take up what the layout leaves of the requested size. */
const PADDING = 8;
const PANEL_ORDER: readonly string[] = VARIANTS;
const SPLIT_LABEL = { train: 'training', test: 'test' } as const;

/** The look every figure shares. */
export const FIGURE_CONFIG = { font: 'DejaVu Sans, sans-serif', view: { stroke: '#888' }, axis: { grid: true, gridOpacity: 0.5 } } as const;

/** The metrics.csv columns a Fig. 6 figure reads; a row from every seed (and run folder) it pools. */
export type FigureRow = Pick<MetricsRow, 'variant' | 'depth' | 'step' | 'train_error' | 'test_error' | 'train_loss' | 'test_loss'>;

/**
 * Where a figure's rows come from: inline (`plot`), or a named data set a live page fills and appends to
 * (the dashboard), with the networks it will hold, which set the panels and colours.
 */
export type FigureSource = { values: readonly FigureRow[] } | { name: string; networks: readonly { variant: string; depth: number }[] };

const panelRank = (variant: string): number => {
  const rank = PANEL_ORDER.indexOf(variant);
  return rank < 0 ? PANEL_ORDER.length : rank;
};

/** A vega expression for the panel title of `datum.variant`. */
const panelExpr = Object.entries(PANEL_TITLES).reduceRight(
  (otherwise, [variant, title]) => `datum.variant === ${JSON.stringify(variant)} ? ${JSON.stringify(title)} : ${otherwise}`,
  'datum.variant',
);

/**
 * metrics.csv rows to the plotted points, inside the spec so that appended rows redraw the curves: one value
 * per (row, split), finite ones only, in the units shown (error in %), then mean, min and max over the seeds
 * at each step (what `curves` in aggregate.ts computes).
 */
function pointTransforms(metric: CurveMetric): Transform[] {
  return [
    { fold: [`train_${metric}`, `test_${metric}`], as: ['column', 'value'] },
    { filter: 'isValid(datum.value) && isFinite(datum.value)' },
    { calculate: `indexof(datum.column, 'train_') === 0 ? '${SPLIT_LABEL.train}' : '${SPLIT_LABEL.test}'`, as: 'split' },
    { calculate: metric === 'error' ? 'datum.value * 100' : 'datum.value', as: 'value' },
    { calculate: panelExpr, as: 'panel' },
    { calculate: "datum.variant + '-' + datum.depth + ' ' + datum.split", as: 'series' },
    {
      aggregate: [
        { op: 'mean', field: 'value', as: 'mean' },
        { op: 'min', field: 'value', as: 'min' },
        { op: 'max', field: 'value', as: 'max' },
        { op: 'count', as: 'n' },
      ],
      groupby: ['panel', 'depth', 'split', 'series', 'step'],
    },
  ];
}

/**
 * The paper's Fig. 6 layout as a vega-lite spec: a panel per variant, a colour per depth, training dashed and
 * test solid, the seeds' min–max as a band behind each mean line. Panels share the y scale (vega-lite's
 * default for facets), so depths and variants compare at a glance.
 */
export function figureSpec(source: FigureSource, options: FigureOptions & { cellWidth: number; cellHeight: number; padding?: Padding }): TopLevelSpec {
  const networks = 'values' in source ? source.values : source.networks;
  const variants = [...new Set(networks.map((n) => n.variant))].sort((a, b) => panelRank(a) - panelRank(b) || a.localeCompare(b));
  const panels = variants.map((v) => PANEL_TITLES[v] ?? v);
  const depths = [...new Set(networks.map((n) => n.depth))].sort((a, b) => a - b);
  const yTitle = options.metric === 'error' ? 'error (%)' : 'loss (log scale)';
  // Early test losses of short runs reach hundreds (batch-norm statistics not settled yet); on a linear axis
  // they flatten every other curve, so losses (always > 0) get a log axis.
  const yScale = options.metric === 'error' ? { zero: true } : { type: 'log' as const };
  const x = { field: 'step', type: 'quantitative', title: 'iterations', scale: { zero: true }, axis: { format: '~s', tickCount: 6 } } as const;
  const color = {
    field: 'depth',
    type: 'ordinal',
    title: 'depth',
    scale: { domain: depths, scheme: 'category10' },
    // Line symbols at full opacity: merged with the band layer the legend would otherwise show faint dots.
    legend: { labelExpr: "datum.label + '-layer'", symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 2 },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title ? { title: { text: options.title, anchor: 'middle', fontSize: 14, offset: 12 } } : {}),
    background: 'white',
    padding: options.padding ?? PADDING,
    config: FIGURE_CONFIG,
    data: 'values' in source ? { values: [...source.values] } : { name: source.name },
    transform: pointTransforms(options.metric),
    facet: { column: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelFontSize: 13, labelFontWeight: 'bold' } } },
    spec: {
      width: options.cellWidth,
      height: options.cellHeight,
      layer: [
        {
          // A band only where seeds disagree: with one seed it would be an invisible zero-height area.
          transform: [{ filter: 'datum.n > 1' }],
          mark: { type: 'area', opacity: 0.15 },
          encoding: { x, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' }, color, detail: { field: 'split' } },
        },
        {
          mark: { type: 'line', strokeWidth: 1.6, clip: true },
          encoding: {
            x,
            y: { field: 'mean', type: 'quantitative', title: yTitle, scale: yScale },
            color,
            strokeDash: {
              field: 'split',
              type: 'nominal',
              title: null,
              scale: { domain: ['training', 'test'], range: [[5, 3], [1, 0]] },
            },
            description: { field: 'series' },
          },
        },
      ],
    },
    resolve: { scale: { y: 'shared', x: 'shared' } },
  };
}

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parseVega(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const RESVG_FONTS: ResvgRenderOptions['font'] = { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' };

/** The SVG's own width and height, as the renderer reads them. */
function svgSize(svg: string): { width: number; height: number } {
  const r = new Resvg(svg, { font: { loadSystemFonts: false } });
  return { width: r.width, height: r.height };
}

export interface Padding {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** A figure's vega-lite spec for a given facet cell size and padding. */
export type SizedSpec = (cell: { width: number; height: number }, padding: Padding) => TopLevelSpec;

/**
 * Renders a figure of `panels` facet columns to SVG at the requested size. vega-lite sizes facet cells, not the
 * whole figure, and what axes, headers and legend add depends on the data; so each pass measures the result and
 * resizes the cells, and the last few pixels go into the right and bottom padding, which adds exactly what it
 * is given.
 */
export async function fitSvg(panels: number, size: { width: number; height: number }, specAt: SizedSpec): Promise<Result<string>> {
  let cellWidth = Math.max(40, Math.floor((size.width * 0.8) / panels));
  let cellHeight = Math.max(40, Math.floor(size.height * 0.7));
  const pad = { left: PADDING, top: PADDING, right: PADDING, bottom: PADDING };
  let got = { width: 0, height: 0 };
  for (let pass = 0; pass < 8; pass++) {
    const svg = await toSvg(specAt({ width: cellWidth, height: cellHeight }, pad));
    got = svgSize(svg);
    const dw = size.width - got.width;
    const dh = size.height - got.height;
    if (dw === 0 && dh === 0) return ok(svg);
    if (dw > 0 && dw <= 4 * panels) pad.right += dw;
    else if (dw !== 0) cellWidth = Math.max(40, cellWidth + Math.floor(dw / panels));
    if (dh > 0 && dh <= 8) pad.bottom += dh;
    else if (dh !== 0) cellHeight = Math.max(40, cellHeight + dh - (dh < 0 ? 2 : 0));
  }
  // Only a size below what the axes, headers and legend need at the smallest panels gets here.
  return err(
    `a ${size.width}x${size.height} figure is too small for ${panels} panel(s) with axes and legend: ` +
      `the smallest layout is ${Math.max(got.width, size.width)}x${Math.max(got.height, size.height)} (raise --width/--height)`,
  );
}

/** The Fig. 6 curves of `rows` (every seed's) as SVG at the requested size. */
export function renderSvg(rows: readonly FigureRow[], options: FigureOptions): Promise<Result<string>> {
  const panels = new Set(rows.map((r) => r.variant)).size || 1;
  return fitSvg(panels, options, (cell, padding) => figureSpec({ values: rows }, { ...options, cellWidth: cell.width, cellHeight: cell.height, padding }));
}

/** PNG at the SVG's size, which renderSvg made the requested one; resvg scales to `width` should it be off. */
export function svgToPng(svg: string, width: number): Uint8Array {
  return new Resvg(svg, { font: RESVG_FONTS, fitTo: { mode: 'width', value: width }, background: 'white' }).render().asPng();
}

/** An SVG as the requested format. */
export function inFormat(svg: Result<string>, format: FigureFormat, width: number): Result<string | Uint8Array> {
  if (!svg.ok || format === 'svg') return svg;
  return ok(svgToPng(svg.value, width));
}

export async function renderFigure(
  rows: readonly FigureRow[],
  format: FigureFormat,
  options: FigureOptions,
): Promise<Result<string | Uint8Array>> {
  return inFormat(await renderSvg(rows, options), format, options.width);
}
