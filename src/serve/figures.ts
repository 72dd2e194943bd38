import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { CurveMetric } from '../report/aggregate.js';
import { readDiagnosticsCsv, type DiagnosticsRow } from '../record/diagnostics-csv.js';
import { gradientsSpec, layerPoints, responsesSpec } from '../report/diagnostics-figures.js';
import { figureSpec } from '../report/plot.js';
import { err, ok, type Result } from '../result.js';
import type { FigureResponse } from './api-types.js';
import { isInside, realPath } from './inside.js';
import type { RunState } from './run-state.js';

/** The name of the data set a curves spec reads: the page inserts each run's rows into it. */
export const ROWS_DATA = 'rows';
const PADDING = { left: 8, top: 8, right: 8, bottom: 8 };
/** What axes, legend and headers take of a figure's width beside its panels, roughly (the page is not a file). */
const CHROME = 230;

const cellWidth = (width: number, panels: number): number => Math.max(140, Math.floor((width - CHROME) / Math.max(1, panels)));

/** The networks a run trains: those in its rows, or, before the first row, those its config names. */
function networksOf(state: RunState): { variant: string; depth: number }[] {
  const seen = new Map<string, { variant: string; depth: number }>();
  for (const r of state.runData().rows) seen.set(`${r.variant}-${r.depth}`, { variant: r.variant, depth: r.depth });
  if (seen.size === 0) {
    const model = (state.config()?.model ?? {}) as { variants?: unknown; depth?: unknown; depths?: unknown };
    const variants = Array.isArray(model.variants) ? model.variants.filter((v): v is string => typeof v === 'string') : [];
    const depths = Array.isArray(model.depths) ? model.depths : [model.depth];
    for (const variant of variants) for (const depth of depths) if (typeof depth === 'number') seen.set(`${variant}-${depth}`, { variant, depth });
  }
  return [...seen.values()];
}

/**
 * The Fig. 6 figure of each group of runs `report` would pool (one group when their settings agree), as the
 * spec `plot` draws, reading a data set the page fills with the runs' rows.
 */
export function curvesFigures(groups: { setting: string | null; runs: RunState[] }[], metric: CurveMetric, width: number): FigureResponse {
  return {
    figures: groups.map(({ setting, runs }) => {
      const networks = runs.flatMap(networksOf);
      const panels = new Set(networks.map((n) => n.variant)).size;
      const names = [...new Set(runs.map((r) => r.config()?.name).filter((n): n is string => n !== undefined))];
      // The setting, which can be long, is the page's heading above the figure, not the figure's title.
      const title = `${names.join(', ')}: training (dashed) and test (solid) ${metric}`;
      const spec = figureSpec(
        { name: ROWS_DATA, networks },
        { metric, width, height: 320, title, cellWidth: cellWidth(width, panels), cellHeight: 260, padding: PADDING },
      );
      return { setting, runs: runs.map((r) => r.id), data: ROWS_DATA, networks: [...new Set(networks.map((n) => `${n.variant}-${n.depth}`))], spec };
    }),
  };
}

export type DiagnosticsKind = 'responses' | 'gradients';

interface Cached {
  key: string;
  rows: Result<DiagnosticsRow[]>;
}
/** diagnostics.csv files read lately, by path; a few, since each holds a whole file's rows. */
const cache = new Map<string, Cached>();
const CACHE_SIZE = 4;

/** A run's diagnostics.csv rows; undefined when it has none (or one pointing outside its folder). */
function diagnosticsRows(state: RunState): Result<DiagnosticsRow[]> | undefined {
  const path = join(state.dir, 'diagnostics.csv');
  const real = realPath(path);
  if (real === undefined || !isInside(real, state.dir)) return undefined;
  const stat = statSync(real);
  if (!stat.isFile()) return undefined;
  const key = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  const hit = cache.get(path);
  if (hit?.key === key) return hit.rows;
  const rows = readDiagnosticsCsv(real, join(state.shown, 'diagnostics.csv'));
  cache.delete(path);
  cache.set(path, { key, rows });
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return rows;
}

/** Which diagnostics figures a run's diagnostics.csv can give. */
export function diagnosticsKinds(state: RunState): DiagnosticsKind[] {
  const rows = diagnosticsRows(state);
  if (!rows?.ok) return [];
  const kinds = new Set(rows.value.map((r) => r.kind));
  return [...(kinds.has('response_std') ? ['responses' as const] : []), ...(kinds.has('grad_norm') ? ['gradients' as const] : [])];
}

/** The `plot --kind responses|gradients` figure of one run, as a vega-lite spec with its data inline. */
export function diagnosticsFigure(state: RunState, kind: DiagnosticsKind, width: number): Result<TopLevelSpec, { status: number; message: string }> {
  const rows = diagnosticsRows(state);
  if (rows === undefined) return err({ status: 404, message: `${state.shown}: no diagnostics.csv` });
  if (!rows.ok) return err({ status: 422, message: rows.error });
  const points = layerPoints([{ dir: state.dir, name: undefined, rows: rows.value }], kind === 'responses' ? 'response_std' : 'grad_norm');
  if (!points.ok) return err({ status: 404, message: points.error });
  const options = { width, height: 320, title: kind === 'responses' ? 'std of 3x3 layer responses (He et al. 2015, Fig. 7)' : 'per-layer gradient norms' };
  const panels = kind === 'responses' ? 2 : new Set(points.value.map((p) => p.variant)).size;
  const cell = { width: cellWidth(width, panels), height: 240 };
  return ok(kind === 'responses' ? responsesSpec(points.value, options, cell, PADDING) : gradientsSpec(points.value, options, cell, PADDING));
}
