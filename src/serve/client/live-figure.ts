/// <reference lib="dom" />
import type { View } from 'vega';
import type { MetricsRow } from '../../record/metrics-csv.js';
import type { FigureResponse, RowsResponse } from '../api-types.js';
import { getJson, h, runQuery } from './common.js';

/** How often the figure asks for new rows: a row written appears within this and a redraw. */
const POLL_MS = 1000;

interface Cursor {
  next: number;
  file: string | undefined;
}

interface Shown {
  view: View;
  data: string;
  runs: string[];
  networks: Set<string>;
}

/**
 * The Fig. 6 figures of some runs (one per group `report` pools), drawn by vega-embed from the spec `plot` uses,
 * and kept growing: each run's rows are asked for from the offset the last answer ended at, and inserted into the
 * figure's data set, so only new rows travel and the page never reloads.
 */
export class LiveFigure {
  private shown: Shown[] = [];
  private cursors = new Map<string, Cursor>();
  private metric: 'error' | 'loss' = 'error';
  private generation = 0;
  /** Rows inserted so far, over all runs (also in the container's data-rows, for whoever watches the page). */
  rows = 0;

  constructor(
    private readonly container: HTMLElement,
    private readonly runs: readonly string[],
  ) {}

  /** Draws the figures (again, e.g. for another metric) and starts following the files. */
  async show(metric: 'error' | 'loss'): Promise<void> {
    this.metric = metric;
    const generation = ++this.generation;
    for (const s of this.shown) s.view.finalize();
    this.shown = [];
    this.cursors.clear();
    this.rows = 0;
    const width = Math.max(300, Math.min(4000, Math.floor(this.container.clientWidth || 1100)));
    const response = await getJson<FigureResponse>(`/api/figure?${runQuery(this.runs)}&metric=${metric}&width=${width}`);
    if (generation !== this.generation) return;
    const holders = response.figures.map(() => h('div', { class: 'figure' }));
    this.container.replaceChildren(...response.figures.flatMap((f, i) => [...(f.setting === null ? [] : [h('h3', { class: 'setting' }, f.setting)]), holders[i]]));
    for (const [i, figure] of response.figures.entries()) {
      const embedded = await vegaEmbed(holders[i], figure.spec as Parameters<typeof vegaEmbed>[1], {
        renderer: 'svg',
        actions: { export: true, source: false, compiled: false, editor: false },
      });
      this.shown.push({ view: embedded.view, data: figure.data, runs: figure.runs, networks: new Set(figure.networks) });
    }
    if (generation !== this.generation) return;
    await this.poll(generation);
  }

  private async poll(generation: number): Promise<void> {
    try {
      await this.update(generation);
    } catch (e) {
      console.error(e);
    }
    if (generation === this.generation) setTimeout(() => void this.poll(generation), POLL_MS);
  }

  /** New rows of every run into its figure; a replaced file (resume) is read again from the start. */
  private async update(generation: number): Promise<void> {
    for (const figure of this.shown) {
      let changed = false;
      for (const run of figure.runs) {
        let cursor = this.cursors.get(run) ?? { next: 0, file: undefined };
        for (;;) {
          const file = cursor.file === undefined ? '' : `&file=${encodeURIComponent(cursor.file)}`;
          const got = await getJson<RowsResponse>(`/api/runs/${encodeURIComponent(run)}/rows?since=${cursor.next}${file}`);
          if (generation !== this.generation) return;
          if (got.reset) {
            figure.view.remove(figure.data, (d: { run?: string }) => d.run === run);
            changed = true;
            cursor = { next: 0, file: undefined };
            continue;
          }
          if (got.rows.some((r: MetricsRow) => !figure.networks.has(`${r.variant}-${r.depth}`))) {
            // A network the figure has no panel or colour for (the run had no rows when it was drawn): draw again.
            void this.show(this.metric);
            return;
          }
          if (got.rows.length > 0) {
            figure.view.insert(figure.data, got.rows.map((r) => ({ ...r, run })));
            this.rows += got.rows.length;
            changed = true;
          }
          cursor = { next: got.next, file: got.file };
          if (got.rows.length === 0 || got.next >= got.size) break;
        }
        this.cursors.set(run, cursor);
      }
      // resize(): the facet grows panels and axes with the data, and the view must lay itself out again.
      if (changed) await figure.view.resize().runAsync();
    }
    this.container.dataset.rows = String(this.rows);
  }
}
