/// <reference lib="dom" />
import type { IndexResponse, RunEntry, SweepEntry } from '../api-types.js';
import { ago, badge, every, fill, getJson, h, labelOf, percent, runQuery, runUrl } from './common.js';

/** How often the list is refreshed. */
const REFRESH_MS = 2000;

type Key = 'name' | 'status' | 'progress' | 'backend' | 'best' | 'started' | 'updated';

const COLUMNS: { key: Key | null; title: string; num?: boolean }[] = [
  { key: null, title: '' },
  { key: 'name', title: 'run' },
  { key: 'status', title: 'status' },
  { key: 'progress', title: 'progress' },
  { key: 'backend', title: 'backend' },
  { key: null, title: 'final train % · final test % · best test % (per network)' },
  { key: 'best', title: 'best test %', num: true },
  { key: 'started', title: 'started' },
  { key: 'updated', title: 'last row' },
];

const sortValue = (r: RunEntry, key: Key): string | number | null => {
  switch (key) {
    case 'name':
      return r.id;
    case 'status':
      return r.status;
    case 'progress':
      return r.progress;
    case 'backend':
      return r.backend;
    case 'best':
      return r.best_test_error;
    case 'started':
      return r.started;
    case 'updated':
      return r.updated;
  }
};

/** Nulls last, whichever the direction. */
function compare(a: string | number | null, b: string | number | null, dir: number): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))) * dir;
}

const params = new URLSearchParams(location.search);
const state = {
  filter: params.get('q') ?? '',
  sort: (params.get('sort') as Key | null) ?? 'started',
  dir: params.get('dir') === 'asc' ? 1 : -1,
  selected: new Set<string>(),
  data: undefined as IndexResponse | undefined,
};

/** Filter and sort go into the address, so a reload or a shared link shows the same list. */
function remember(): void {
  const q = new URLSearchParams();
  if (state.filter) q.set('q', state.filter);
  q.set('sort', state.sort);
  q.set('dir', state.dir === 1 ? 'asc' : 'desc');
  history.replaceState(null, '', `?${q}`);
}

const matches = (r: RunEntry, words: string[]): boolean => {
  const text = `${r.id} ${r.name} ${r.status} ${r.backend ?? ''} ${r.networks.map((n) => labelOf(n)).join(' ')}`.toLowerCase();
  return words.every((w) => text.includes(w));
};

function networksCell(r: RunEntry): HTMLElement {
  if (r.error !== null) return h('td', { class: 'error-text' }, r.error);
  return h(
    'td',
    { class: 'nets' },
    ...r.networks.map((n) =>
      h('div', {}, `${labelOf(n)}: ${percent(n.final_train_error.mean)} · ${percent(n.final_test_error.mean)} · ${percent(n.best_test_error.mean)}`),
    ),
  );
}

function progressCell(r: RunEntry): HTMLElement {
  const text = r.loading !== null ? `reading ${Math.round(r.loading * 100)}%` : r.step === null ? '–' : `step ${r.step}${r.iterations === null ? '' : ` / ${r.iterations}`}`;
  return h('td', {}, r.progress === null ? '' : h('progress', { max: '1', value: String(r.progress) }), ' ', h('span', { class: 'muted' }, text));
}

function runRow(r: RunEntry): HTMLElement {
  const box = h('input', { type: 'checkbox', 'aria-label': `select ${r.id}`, checked: state.selected.has(r.id) });
  box.addEventListener('change', () => {
    if (box.checked) state.selected.add(r.id);
    else state.selected.delete(r.id);
    render();
  });
  return h(
    'tr',
    { 'data-run': r.id },
    h('td', {}, box),
    h('td', {}, h('a', { href: runUrl(r.id) }, r.id), r.name !== r.id.split('/').at(-1) ? h('div', { class: 'muted' }, r.name) : null),
    h('td', {}, badge(r.status)),
    progressCell(r),
    h('td', {}, r.backend ?? '–'),
    networksCell(r),
    h('td', { class: 'num' }, percent(r.best_test_error)),
    h('td', {}, r.started === null ? '–' : r.started.slice(0, 16).replace('T', ' ')),
    h('td', {}, ago(r.updated)),
  );
}

function sweepRow(s: SweepEntry, runs: Map<string, RunEntry>): HTMLElement {
  const members = s.runs.map((id) => runs.get(id)).filter((r): r is RunEntry => r !== undefined);
  const counts = new Map<string, number>();
  for (const r of members) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return h(
    'tr',
    {},
    h('td', {}, s.runs.length > 0 ? h('a', { href: `/compare?sweep=${encodeURIComponent(s.id)}` }, s.id) : s.id),
    h('td', {}, s.error ?? s.grid),
    h('td', { class: 'num' }, String(s.runs.length)),
    h('td', {}, [...counts].map(([status, n]) => `${n} ${status}`).join(', ') || '–'),
    h('td', {}, s.created === null ? '–' : s.created.slice(0, 16).replace('T', ' ')),
  );
}

const main = document.getElementById('main') as HTMLElement;
const filterBox = h('input', { type: 'search', placeholder: 'filter: name, status, backend, network…', 'aria-label': 'filter runs', value: state.filter });
filterBox.addEventListener('input', () => {
  state.filter = filterBox.value;
  remember();
  render();
});
const compareLink = h('a', { id: 'compare' });
const runsBody = h('tbody');
const head = h(
  'tr',
  {},
  ...COLUMNS.map((c) => {
    const th = h('th', { class: `${c.key ? 'sortable' : ''}${c.num ? ' num' : ''}` }, c.title);
    if (c.key) {
      const key = c.key;
      th.addEventListener('click', () => {
        state.dir = state.sort === key ? -state.dir : key === 'name' || key === 'backend' || key === 'best' ? 1 : -1;
        state.sort = key;
        remember();
        render();
      });
    }
    return th;
  }),
);
const count = h('span', { class: 'muted' });
const sweepsSection = h('section');
fill(
  main,
  h('h1', {}, 'Runs'),
  h('div', { class: 'toolbar' }, filterBox, count, compareLink),
  h('table', { id: 'runs' }, h('thead', {}, head), runsBody),
  sweepsSection,
);

function render(): void {
  const data = state.data;
  if (!data) return;
  document.getElementById('where')!.textContent = `serving ${data.roots.join(', ')}`;
  const words = state.filter.toLowerCase().split(/\s+/).filter((w) => w !== '');
  const shown = data.runs.filter((r) => matches(r, words)).sort((a, b) => compare(sortValue(a, state.sort), sortValue(b, state.sort), state.dir) || a.id.localeCompare(b.id));
  for (const th of Array.from(head.children)) th.removeAttribute('aria-sort');
  const sorted = head.children[COLUMNS.findIndex((c) => c.key === state.sort)];
  sorted?.setAttribute('aria-sort', state.dir === 1 ? 'ascending' : 'descending');
  count.textContent = `${shown.length} of ${data.runs.length} runs`;
  fill(runsBody, ...(shown.length > 0 ? shown.map(runRow) : [h('tr', {}, h('td', { colspan: String(COLUMNS.length), class: 'muted' }, data.runs.length === 0 ? 'No runs here yet (a run folder holds metrics.csv).' : 'No run matches the filter.'))]));
  const selected = [...state.selected].filter((id) => data.runs.some((r) => r.id === id));
  compareLink.textContent = selected.length > 0 ? `compare ${selected.length} selected` : 'select runs to compare';
  if (selected.length > 0) compareLink.setAttribute('href', `/compare?${runQuery(selected)}`);
  else compareLink.removeAttribute('href');
  const byId = new Map(data.runs.map((r) => [r.id, r]));
  fill(
    sweepsSection,
    ...(data.sweeps.length === 0
      ? []
      : [
          h('h2', {}, 'Sweeps'),
          h(
            'table',
            { id: 'sweeps' },
            h('thead', {}, h('tr', {}, ...['sweep', 'grid', 'runs', 'status', 'created'].map((t) => h('th', {}, t)))),
            h('tbody', {}, ...data.sweeps.map((s) => sweepRow(s, byId))),
          ),
        ]),
  );
}

every(REFRESH_MS, async () => {
  state.data = await getJson<IndexResponse>('/api/runs');
  render();
});
