/// <reference lib="dom" />
import type { Report } from '../../report/report.js';
import type { IndexResponse } from '../api-types.js';
import { badge, every, fill, getJson, h, percent, reportView, runQuery, runUrl } from './common.js';
import { LiveFigure } from './live-figure.js';

const REFRESH_MS = 2000;
const main = document.getElementById('main') as HTMLElement;
const params = new URLSearchParams(location.search);
const sweep = params.get('sweep');

async function runIds(): Promise<string[]> {
  if (sweep === null) return [...new Set(params.getAll('run'))];
  const index = await getJson<IndexResponse>('/api/runs');
  const found = index.sweeps.find((s) => s.id === sweep);
  if (!found) throw new Error(`no sweep ${sweep}`);
  return found.runs;
}

async function start(): Promise<void> {
  const ids = await runIds();
  if (ids.length === 0) {
    fill(main, h('p', {}, 'Nothing to compare: select runs on the ', h('a', { href: '/' }, 'runs page'), '.'));
    return;
  }
  const heading = sweep === null ? `Comparing ${ids.length} run${ids.length > 1 ? 's' : ''}` : `Sweep ${sweep}`;
  document.getElementById('where')!.textContent = heading;
  const members = h('tbody');
  const metricChoice = h('select', { 'aria-label': 'metric' }, h('option', { value: 'error' }, 'error'), h('option', { value: 'loss' }, 'loss'));
  const figures = h('div', { id: 'curves' });
  const report = h('div', { id: 'report' });
  fill(
    main,
    h('h1', {}, heading),
    h('p', { class: 'muted' }, 'Runs whose configs differ only in seed (and backend, name, folder) pool as seeds, as `resnet-exp report` pools them; others are shown side by side.'),
    h('table', {}, h('thead', {}, h('tr', {}, ...['run', 'status', 'progress', 'best test %'].map((t) => h('th', {}, t)))), members),
    h('h2', {}, 'Curves ', metricChoice),
    figures,
    h('h2', {}, 'Report'),
    report,
  );
  const live = new LiveFigure(figures, ids);
  metricChoice.addEventListener('change', () => void live.show(metricChoice.value === 'loss' ? 'loss' : 'error'));
  void live.show('error');
  let lastVersion = '';
  every(REFRESH_MS, async () => {
    const index = await getJson<IndexResponse>('/api/runs');
    const runs = ids.map((id) => index.runs.find((r) => r.id === id));
    fill(
      members,
      ...runs.map((r, i) =>
        r === undefined
          ? h('tr', {}, h('td', {}, ids[i]), h('td', { colspan: '3' }, 'not found'))
          : h('tr', {}, h('td', {}, h('a', { href: runUrl(r.id) }, r.id)), h('td', {}, badge(r.status)), h('td', {}, r.step === null ? '–' : `step ${r.step}${r.iterations === null ? '' : ` / ${r.iterations}`}`), h('td', { class: 'num' }, percent(r.best_test_error))),
      ),
    );
    const version = runs.map((r) => `${r?.rows}:${r?.status}`).join('|');
    if (version === lastVersion) return;
    lastVersion = version;
    try {
      fill(report, reportView(await getJson<Report>(`/api/report?${runQuery(ids)}&include_unfinished=1`)));
    } catch (e) {
      fill(report, h('div', { class: 'error' }, (e as Error).message));
    }
  });
}

start().catch((e: unknown) => fill(main, h('div', { class: 'error' }, (e as Error).message)));
