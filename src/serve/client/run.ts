/// <reference lib="dom" />
import type { Report } from '../../report/report.js';
import type { RunDetail } from '../api-types.js';
import { ago, badge, every, fill, getJson, h } from './common.js';
import { reportView } from './common.js';
import { LiveFigure } from './live-figure.js';

/** How often the run's status, progress and report are refreshed (the curves follow on their own). */
const REFRESH_MS = 1000;

const id = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const api = `/api/runs/${encodeURIComponent(id)}`;
const main = document.getElementById('main') as HTMLElement;

const title = h('h1');
const facts = h('div', { class: 'facts' });
const problems = h('div');
const figures = h('div', { id: 'curves' });
const metricChoice = h('select', { 'aria-label': 'metric' }, h('option', { value: 'error' }, 'error'), h('option', { value: 'loss' }, 'loss'));
const report = h('div', { id: 'report' });
const diagnostics = h('div', { id: 'diagnostics' });
const config = h('pre', { id: 'config' });
fill(
  main,
  title,
  facts,
  problems,
  h('h2', {}, 'Curves ', metricChoice),
  figures,
  h('h2', {}, 'Report'),
  report,
  diagnostics,
  h('h2', {}, 'config.json'),
  config,
);
document.getElementById('where')!.textContent = id;
document.title = `resnet-exp: ${id}`;

const live = new LiveFigure(figures, [id]);
metricChoice.addEventListener('change', () => void live.show(metricChoice.value === 'loss' ? 'loss' : 'error'));

let lastVersion = '';
let diagnosticsShown = '';

async function showDiagnostics(kinds: RunDetail['diagnostics']): Promise<void> {
  const key = kinds.join(',');
  if (key === diagnosticsShown) return;
  diagnosticsShown = key;
  if (kinds.length === 0) return fill(diagnostics);
  const holders = kinds.map(() => h('div', { class: 'figure' }));
  fill(diagnostics, h('h2', {}, 'Diagnostics'), ...holders);
  const width = Math.max(300, Math.min(4000, Math.floor(diagnostics.clientWidth || 1100)));
  for (const [i, kind] of kinds.entries()) {
    const spec = await getJson<unknown>(`${api}/diagnostics/${kind}?width=${width}`);
    await vegaEmbed(holders[i], spec as Parameters<typeof vegaEmbed>[1], { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } });
  }
}

async function refresh(): Promise<void> {
  const run = await getJson<RunDetail>(api);
  fill(title, run.name, ' ', badge(run.status));
  const seedText = run.seeds.length > 1 ? `seeds ${run.seeds.join(', ')}` : run.seeds.length === 1 ? `seed ${run.seeds[0]}` : '';
  fill(
    facts,
    h('span', {}, run.path),
    h('span', {}, run.progress === null ? '' : h('progress', { max: '1', value: String(run.progress), id: 'progress' }), ' ', run.step === null ? 'no rows yet' : `step ${run.step}${run.iterations === null ? '' : ` of ${run.iterations}`}`),
    h('span', {}, seedText),
    h('span', {}, `backend ${run.backend ?? '–'}`),
    h('span', {}, `started ${run.started === null ? '–' : run.started.slice(0, 19).replace('T', ' ')}`),
    h('span', { id: 'rows' }, `${run.rows} rows, last ${ago(run.updated)}`),
  );
  fill(problems, run.error !== null ? h('div', { class: 'error', id: 'run-error' }, run.error) : null, ...run.warnings.map((w) => h('p', { class: 'warning' }, `warning: ${w}`)));
  const configText = run.config === null ? '(no readable config.json)' : JSON.stringify(run.config, null, 2);
  if (config.textContent !== configText) config.textContent = configText;
  // The report is asked for again only when rows came (or the file changed).
  const version = `${run.metrics.file}:${run.metrics.next}:${run.status}`;
  if (version !== lastVersion && run.error === null) {
    lastVersion = version;
    const r = await getJson<Report>(`${api}/report?include_unfinished=1`);
    fill(report, reportView(r));
  } else if (run.error !== null) {
    lastVersion = '';
    fill(report, h('p', { class: 'muted' }, 'No report: metrics.csv cannot be read (see above).'));
  }
  await showDiagnostics(run.diagnostics);
}

every(REFRESH_MS, refresh);
void live.show('error');
