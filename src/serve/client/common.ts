/// <reference lib="dom" />
// The page's scripts run in the browser: DOM types, and only type imports from the server's modules.
import type { NetworkReport, Stat } from '../../report/aggregate.js';
import type { Report } from '../../report/report.js';
import type { ApiError, RunStatus } from '../api-types.js';

declare global {
  // Loaded by the page's <script> tags, from the server's copies of the packages' browser builds.
  const vegaEmbed: typeof import('vega-embed').default;
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { cache: 'no-store' });
  const body = (await res.json()) as T | ApiError;
  if (!res.ok) throw new Error(typeof body === 'object' && body !== null && 'error' in body ? body.error : `HTTP ${res.status}`);
  return body as T;
}

type Child = Node | string | null | undefined | false;

/** An element with attributes and children; text goes in as text, never as HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

export const runUrl = (id: string): string => `/run/${encodeURIComponent(id)}`;
export const runQuery = (ids: readonly string[]): string => ids.map((id) => `run=${encodeURIComponent(id)}`).join('&');

export const percent = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : (x * 100).toFixed(2));

export function statText(s: Stat): string {
  if (s.mean === null) return '–';
  return `${(s.mean * 100).toFixed(2)}${s.std === null ? '' : ` ± ${(s.std * 100).toFixed(2)}`}`;
}

export const badge = (status: RunStatus): HTMLElement => h('span', { class: `status status-${status}` }, status);

export function ago(iso: string | null, now = Date.now()): string {
  if (iso === null) return '–';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h ago`;
  return new Date(iso).toISOString().slice(0, 16).replace('T', ' ');
}

export const labelOf = (n: { variant: string; depth: number; setting: string | null }): string =>
  `${n.variant}-${n.depth}${n.setting === null ? '' : ` [${n.setting}]`}`;

/** Runs `task` now and then `ms` after each run ends, for as long as the page is open. */
export function every(ms: number, task: () => Promise<void>): void {
  const loop = async (): Promise<void> => {
    try {
      await task();
    } catch (e) {
      console.error(e);
    }
    setTimeout(() => void loop(), ms);
  };
  void loop();
}

/** The report's table (errors in %) and verdict lines, as `resnet-exp report` prints them. */
export function reportView(report: Report): HTMLElement {
  const rows = report.networks.map((n: NetworkReport) =>
    h(
      'tr',
      {},
      h('td', {}, `${labelOf(n)}${n.diverged > 0 ? ` (${n.diverged} diverged)` : ''}${n.unfinished > 0 ? ` (${n.unfinished} unfinished)` : ''}`),
      h('td', { class: 'num' }, String(n.seeds)),
      h('td', { class: 'num' }, n.params === null ? '–' : n.params >= 1e6 ? `${(n.params / 1e6).toFixed(2)}M` : `${(n.params / 1e3).toFixed(1)}k`),
      h('td', { class: 'num' }, statText(n.final_train_error)),
      h('td', { class: 'num' }, statText(n.final_test_error)),
      h('td', { class: 'num' }, statText(n.best_test_error)),
      h('td', { class: 'num' }, n.best_test_step.mean === null ? '–' : String(Math.round(n.best_test_step.mean))),
    ),
  );
  const head = ['network', 'seeds', 'params', 'final train %', 'final test %', 'best test %', 'best at step'];
  return h(
    'div',
    { class: 'report' },
    rows.length === 0
      ? h('p', { class: 'muted' }, 'No network with rows yet.')
      : h('table', {}, h('thead', {}, h('tr', {}, ...head.map((t, i) => h('th', { class: i === 0 ? undefined : 'num' }, t)))), h('tbody', {}, ...rows)),
    h(
      'p',
      { class: 'muted' },
      `final train: mean training error over the last ${report.definitions.final_window * 100}% of iterations; ` +
        'final test: at the last evaluation; ± is the standard deviation over seeds.',
    ),
    h('div', { class: 'verdicts' }, ...report.verdicts.lines.map((l) => h('p', {}, l))),
    ...report.warnings.map((w) => h('p', { class: 'warning' }, `warning: ${w}`)),
  );
}

/** Replaces `node`'s children. */
export function fill(node: Element, ...children: Child[]): void {
  node.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}
