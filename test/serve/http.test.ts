import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DiagnosticsCsv } from '../../src/record/diagnostics-csv.js';
import { loadRuns } from '../../src/report/read-run.js';
import { buildReport } from '../../src/report/report.js';
import type { FigureResponse, IndexResponse, RowsResponse, RunDetail } from '../../src/serve/api-types.js';
import { startDashboard, type Dashboard } from '../../src/serve/index.js';
import { fourNets, writeRun } from '../report/fixtures.js';

interface Got {
  status: number;
  type: string;
  body: string;
}

/** A raw request: the path goes out exactly as written (fetch would normalise `..` and `%2e%2e` away). */
function get(base: string, path: string, options: { method?: string; host?: string } = {}): Promise<Got> {
  const url = new URL(base);
  return new Promise((done, fail) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.host ? { host: options.host } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => done({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

async function getJson<T>(base: string, path: string, status = 200): Promise<T> {
  const got = await get(base, path);
  assert.equal(got.status, status, `${path}: ${got.body.slice(0, 300)}`);
  assert.match(got.type, /^application\/json/);
  return JSON.parse(got.body) as T;
}

const SECRET = 'SECRET-outside-the-served-folder';

describe('serve: HTTP against a real server on 127.0.0.1', () => {
  let tmp: string;
  let root: string;
  let outside: string;
  let dashboard: Dashboard;
  let base: string;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'resnet-exp-serve-'));
    root = join(tmp, 'runs');
    outside = join(tmp, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'secret.txt'), SECRET);
    // A whole run folder outside, which a symlink inside points to.
    writeRun(join(outside, 'elsewhere'), fourNets(9, { p20: 0.1, p56: 0.2, r20: 0.1, r56: 0.1 }));
    writeRun(join(root, 'a'), fourNets(1, { p20: 0.1, p56: 0.2, r20: 0.09, r56: 0.08 }));
    writeRun(join(root, 'b'), fourNets(2, { p20: 0.11, p56: 0.19, r20: 0.1, r56: 0.07 }));
    // A sweep folder with one run, listed in its sweep.json.
    writeRun(join(root, 'sw', '000-seed=3'), fourNets(3, { p20: 0.1, p56: 0.2, r20: 0.1, r56: 0.1 }));
    writeFileSync(
      join(root, 'sw', 'sweep.json'),
      JSON.stringify({ version: 1, created: '2026-01-01T00:00:00Z', cwd: tmp, command: [], grid: [{ key: 'seed', values: [3] }], runs: [] }),
    );
    writeRun(join(root, 'broken'), fourNets(4, { p20: 0.1, p56: 0.2, r20: 0.1, r56: 0.1 }));
    appendFileSync(join(root, 'broken', 'metrics.csv'), '4,plain,20,105,1,0.1,0.2,NOPE,,,1,1,training\n');
    symlinkSync(join(outside, 'elsewhere'), join(root, 'escape'));
    symlinkSync(join(outside, 'secret.txt'), join(root, 'a', 'secret-link.json'));
    writeRun(join(root, 'leaky'), fourNets(5, { p20: 0.1, p56: 0.2, r20: 0.1, r56: 0.1 }));
    // Its config.json and metrics.csv point outside: neither may be read.
    for (const name of ['config.json', 'metrics.csv']) {
      rmSync(join(root, 'leaky', name));
      symlinkSync(name === 'config.json' ? join(outside, 'secret.txt') : join(outside, 'elsewhere', 'metrics.csv'), join(root, 'leaky', name));
    }
    writeFileSync(join(root, 'leaky', 'log.jsonl'), '');
    const started = await startDashboard({ roots: [root], cwd: tmp, host: '127.0.0.1', port: 0 });
    assert.ok(started.ok, started.ok ? '' : started.error);
    dashboard = started.value;
    base = dashboard.url;
  });

  after(async () => {
    await dashboard?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 and lists the runs and the sweep, with status, progress and errors', async () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await getJson<IndexResponse>(base, '/api/runs');
    assert.deepEqual(index.runs.map((r) => r.id).sort(), ['a', 'b', 'broken', 'leaky', 'sw/000-seed=3']);
    const a = index.runs.find((r) => r.id === 'a')!;
    assert.equal(a.step, 100);
    assert.equal(a.rows, 80);
    assert.deepEqual(a.networks.map((n) => `${n.variant}-${n.depth}`), ['plain-20', 'plain-56', 'residual-20', 'residual-56']);
    const reference = buildReport((loadRuns([join(root, 'a')], tmp) as { ok: true; value: Parameters<typeof buildReport>[0] }).value, tmp, { includeUnfinished: true });
    assert.deepEqual(a.networks, JSON.parse(JSON.stringify(reference.networks)));
    assert.equal(a.best_test_error, Math.min(...reference.networks.map((n) => n.best_test_error.mean as number)));
    const broken = index.runs.find((r) => r.id === 'broken')!;
    assert.equal(broken.status, 'error');
    assert.match(broken.error ?? '', /metrics\.csv: line 82: column train_error: not a number.*\("NOPE"\)/);
    assert.equal(index.sweeps.length, 1);
    assert.equal(index.sweeps[0].id, 'sw');
    assert.equal(index.runs.find((r) => r.id === 'sw/000-seed=3')!.sweep, 'sw');
    const page = await get(base, '/');
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /<script src="\/static\/vega-embed\.min\.js"><\/script>/);
    // Offline: every script the page loads comes from this server.
    assert.doesNotMatch(page.body, /https?:\/\//);
    for (const asset of ['vega.min.js', 'vega-lite.min.js', 'vega-embed.min.js', 'app/index.js', 'app/run.js', 'app/live-figure.js']) {
      const got = await get(base, `/static/${asset}`);
      assert.equal(got.status, 200, asset);
      assert.match(got.type, /^text\/javascript/);
    }
  });

  it('a run: its details, its rows from an offset as they are appended, and its report', async () => {
    const detail = await getJson<RunDetail>(base, '/api/runs/a');
    assert.equal(detail.name, 'fixture');
    assert.deepEqual(detail.config, { name: 'fixture', seed: 1 });
    const all = await getJson<RowsResponse>(base, '/api/runs/a/rows?since=0');
    const runs = loadRuns([join(root, 'a')], tmp);
    assert.ok(runs.ok, runs.ok ? '' : runs.error);
    assert.deepEqual(all.rows, JSON.parse(JSON.stringify(runs.value[0].rows)));
    assert.equal(all.next, statSync(join(root, 'a', 'metrics.csv')).size);
    assert.equal(all.reset, false);
    const none = await getJson<RowsResponse>(base, `/api/runs/a/rows?since=${all.next}&file=${encodeURIComponent(all.file)}`);
    assert.deepEqual(none.rows, []);
    // The fixture as written, put back below: rows after a network's done row are for the incremental reader only.
    const written = readFileSync(join(root, 'a', 'metrics.csv'), 'utf8');
    appendFileSync(join(root, 'a', 'metrics.csv'), '1,plain,20,105,1,0.1,0.2,0.1,,,1,1,training\n1,plain,56,105,1,0.1,0.2,0.3');
    const more = await getJson<RowsResponse>(base, `/api/runs/a/rows?since=${all.next}&file=${encodeURIComponent(all.file)}`);
    // The second row has no line end yet: it is still being written.
    assert.deepEqual(more.rows.map((r) => [r.variant, r.depth, r.step]), [['plain', 20, 105]]);
    assert.ok(more.next < more.size);
    appendFileSync(join(root, 'a', 'metrics.csv'), ',,,1,1,training\n');
    const rest = await getJson<RowsResponse>(base, `/api/runs/a/rows?since=${more.next}`);
    assert.deepEqual(rest.rows.map((r) => [r.variant, r.depth, r.step, r.train_error]), [['plain', 56, 105, 0.3]]);
    const index = await getJson<IndexResponse>(base, '/api/runs');
    assert.equal(index.runs.find((r) => r.id === 'a')!.rows, 82);

    // A file replaced under the same name (as resume does): the page is told to start again.
    const text = readFileSync(join(root, 'a', 'metrics.csv'), 'utf8');
    writeFileSync(join(root, 'a', 'metrics.new'), text.split('\n').slice(0, 3).join('\n') + '\n');
    renameSync(join(root, 'a', 'metrics.new'), join(root, 'a', 'metrics.csv'));
    const reset = await getJson<RowsResponse>(base, `/api/runs/a/rows?since=${rest.next}&file=${encodeURIComponent(rest.file)}`);
    assert.equal(reset.reset, true);
    assert.deepEqual(reset.rows, []);
    const again = await getJson<RowsResponse>(base, '/api/runs/a/rows?since=0');
    assert.equal(again.rows.length, 2);
    assert.equal((await getJson<RunDetail>(base, '/api/runs/a')).rows, 2);
    writeFileSync(join(root, 'a', 'metrics.csv'), written);

    const bad = await getJson<{ error: string }>(base, '/api/runs/b/rows?since=7', 400);
    assert.match(bad.error, /offset 7 is not the start of a row/);
    assert.match((await getJson<{ error: string }>(base, '/api/runs/b/rows?since=x', 400)).error, /since=x: give a whole number/);

    const report = await getJson<unknown>(base, '/api/runs/b/report');
    const b = loadRuns([join(root, 'b')], tmp);
    assert.ok(b.ok);
    assert.deepEqual(report, JSON.parse(JSON.stringify(buildReport(b.value, tmp))));
    const pooled = await getJson<unknown>(base, '/api/report?run=a&run=b');
    const ab = loadRuns([join(root, 'a'), join(root, 'b')], tmp);
    assert.ok(ab.ok, ab.ok ? "" : ab.error);
    assert.deepEqual(pooled, JSON.parse(JSON.stringify(buildReport(ab.value, tmp))));

    // Diagnostics figures, when the run recorded them: the spec of `plot --kind`, its data inline.
    assert.deepEqual((await getJson<RunDetail>(base, '/api/runs/b')).diagnostics, []);
    new DiagnosticsCsv(join(root, 'b', 'diagnostics.csv')).append(
      [1, 2, 3].flatMap((index) => [
        { seed: 2, variant: 'plain', depth: 20, step: 50, layer: `l${index}`, index, kind: 'grad_norm' as const, value: index / 10 },
        { seed: 2, variant: 'plain', depth: 20, step: 50, layer: `l${index}`, index, kind: 'response_std' as const, value: 1 / index },
      ]),
    );
    assert.deepEqual((await getJson<RunDetail>(base, '/api/runs/b')).diagnostics, ['responses', 'gradients']);
    const responses = await getJson<{ data: { values: { value: number }[] } }>(base, '/api/runs/b/diagnostics/responses?width=800');
    assert.deepEqual(responses.data.values.slice(0, 3).map((v) => v.value), [1, 0.5, 0.333333]); // as written: 6 digits
    await getJson<{ error: string }>(base, '/api/runs/a/diagnostics/gradients', 404);

    const figure = await getJson<FigureResponse>(base, '/api/figure?run=a&run=b&metric=loss&width=900');
    assert.equal(figure.figures.length, 1, 'a and b differ only in seed: one figure pools them');
    assert.deepEqual(figure.figures[0].runs, ['a', 'b']);
    assert.deepEqual(figure.figures[0].networks, ['plain-20', 'plain-56', 'residual-20', 'residual-56']);
    assert.deepEqual((figure.figures[0].spec as { data: unknown }).data, { name: figure.figures[0].data });
  });

  it('a damaged metrics.csv is an error on its run, and the server goes on', async () => {
    const detail = await getJson<RunDetail>(base, '/api/runs/broken');
    assert.equal(detail.status, 'error');
    assert.match(detail.error ?? '', /line 82/);
    const rows = await getJson<{ error: string }>(base, '/api/runs/broken/rows?since=0', 422);
    assert.match(rows.error, /line 82: column train_error: not a number/);
    await getJson<{ error: string }>(base, '/api/runs/broken/report', 422);
    assert.equal((await get(base, '/run/broken')).status, 200);
    assert.equal((await getJson<IndexResponse>(base, '/api/runs')).runs.length, 5);
  });

  it('serves nothing outside the folder: traversal, encoded dots and symlinks out are 404, and the files are not read', async () => {
    const secret = join(outside, 'secret.txt');
    const outsideCsv = join(outside, 'elsewhere', 'metrics.csv');
    const old = new Date('2001-01-01T00:00:00Z');
    for (const f of [secret, outsideCsv]) utimesSync(f, old, statSync(f).mtime);
    // Reading a file moves its access time off 2001 here (relatime); where it does not, the check below says so.
    const probe = join(tmp, 'probe');
    writeFileSync(probe, 'x');
    utimesSync(probe, old, statSync(probe).mtime);
    readFileSync(probe);
    const atimeWorks = statSync(probe).atimeMs !== old.getTime();

    const attempts = [
      '/../outside/secret.txt',
      '/static/../../outside/secret.txt',
      '/static/..%2f..%2foutside%2fsecret.txt',
      '/static/%2e%2e/%2e%2e/outside/secret.txt',
      '/static/%2e%2e%2f%2e%2e%2foutside%2fsecret.txt',
      '/run/..%2foutside',
      '/run/%2e%2e',
      '/run/escape',
      '/api/runs/..%2foutside%2felsewhere',
      '/api/runs/%2e%2e/rows?since=0',
      '/api/runs/escape',
      '/api/runs/escape/rows?since=0',
      '/api/runs/a%2f..%2f..%2foutside%2felsewhere/rows?since=0',
      '/api/runs/a/secret-link.json',
      '/api/runs/leaky/rows?since=0',
      '/api/report?run=escape',
      '/api/figure?run=..%2foutside%2felsewhere',
      '/static/%252e%252e/secret.txt',
      '/static/%',
    ];
    for (const path of attempts) {
      const got = await get(base, path);
      assert.equal(got.status, 404, `${path}: ${got.status} ${got.body}`);
      assert.ok(!got.body.includes(SECRET) && !got.body.includes('plain,20'), path);
    }
    const index = await getJson<IndexResponse>(base, '/api/runs');
    assert.ok(!index.runs.some((r) => r.id.includes('escape') || r.id.includes('elsewhere')), 'a symlink out is not listed');
    const leaky = await getJson<RunDetail>(base, '/api/runs/leaky');
    assert.equal(leaky.config, null);
    assert.equal(leaky.rows, 0);
    assert.ok(!JSON.stringify(leaky).includes(SECRET));
    if (atimeWorks) {
      for (const f of [secret, outsideCsv]) assert.equal(statSync(f).atimeMs, old.getTime(), `${f} was read`);
    } else {
      console.log('# access times are not kept on this filesystem: "not read" checked by the answers only');
    }
  });

  it('read-only, and only for requests naming this machine', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const got = await get(base, '/api/runs', { method });
      assert.equal(got.status, 405, method);
    }
    const rebound = await get(base, '/api/runs', { host: 'evil.example:80' });
    assert.equal(rebound.status, 403);
    assert.equal((await get(base, '/api/runs', { host: 'localhost' })).status, 200);
    assert.match((await get(base, '/')).body, /resnet-exp/);
    const csp = await new Promise<string>((done) => request(`${base}`, (res) => done(String(res.headers['content-security-policy']))).end());
    assert.match(csp, /default-src 'self'/);
  });
});
