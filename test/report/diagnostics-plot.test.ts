import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DiagnosticsCsv, readDiagnosticsCsv, rewriteDiagnosticsCsv, type DiagnosticsRow } from '../../src/record/diagnostics-csv.js';
import { layerPoints, renderDiagnosticsFigure } from '../../src/report/diagnostics-figures.js';
import { runInProcess, tinyRunArgs, withTempDir } from '../helpers/cli.js';

/** Every element of the parsed SVG, depth first. */
function* elements(node: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(node)) for (const n of node) yield* elements(n);
  else if (node !== null && typeof node === 'object') {
    yield node as Record<string, unknown>;
    for (const v of Object.values(node)) yield* elements(v);
  }
}

const lineLabels = (svg: string): string[] =>
  [...elements(new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(svg) as unknown)]
    .filter((e) => e['@aria-roledescription'] === 'line mark')
    .map((e) => String(e['@aria-label']))
    .sort();

/** Rows as a run of `depth` would write them at `step`: responses fall with the index, gradients rise. */
function rowsFor(variant: string, depth: number, step: number, seed = 1): DiagnosticsRow[] {
  const layers = Array.from({ length: depth }, (_, i) => i + 1);
  return [
    ...layers.map((index) => ({ seed, variant, depth, step, layer: index === depth ? 'classifier' : `l${index}`, index, kind: 'grad_norm' as const, value: index / depth + seed })),
    { seed, variant, depth, step, layer: 'stage2.block1.shortcut.conv', index: null, kind: 'grad_norm' as const, value: 9 },
    ...layers.slice(0, -1).map((index) => ({ seed, variant, depth, step, layer: `l${index}`, index, kind: 'response_std' as const, value: 2 - index / depth })),
  ];
}

describe('diagnostics.csv and its figures', () => {
  it('round-trips rows, drops rows past a resume point, and skips a torn last line', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'diagnostics.csv');
      const rows = [...rowsFor('plain', 8, 10), ...rowsFor('plain', 8, 20)];
      new DiagnosticsCsv(file).append(rows);
      const read = readDiagnosticsCsv(file);
      assert.ok(read.ok, read.ok ? '' : read.error);
      assert.deepEqual(read.value, rows);
      appendFileSync(file, '1,plain,8,30,l1,1,grad_n');
      const torn = readDiagnosticsCsv(file);
      assert.ok(torn.ok && torn.value.length === rows.length);
      assert.equal(rewriteDiagnosticsCsv(file, (r) => r.step <= 10), rows.length - rowsFor('plain', 8, 10).length);
      const kept = readDiagnosticsCsv(file);
      assert.ok(kept.ok);
      assert.deepEqual(kept.value, rowsFor('plain', 8, 10));
      appendFileSync(file, '1,plain,8,40,l1,1,grad_norm,oops\n');
      const bad = readDiagnosticsCsv(file, 'diagnostics.csv');
      assert.ok(!bad.ok);
      assert.match(bad.error, /^diagnostics\.csv: line \d+: column value: not a number \("oops"\)/);
    });
  });

  it('picks steps: responses at the last, gradients at the first and last, or the ones asked for; seeds averaged', () => {
    const run = { dir: 'r', name: 'x', rows: [10, 20, 30].flatMap((s) => [...rowsFor('plain', 8, s, 1), ...rowsFor('plain', 8, s, 3)]) };
    const responses = layerPoints([run], 'response_std');
    assert.ok(responses.ok);
    assert.deepEqual([...new Set(responses.value.map((p) => p.step))], [30]);
    assert.equal(responses.value.length, 7);
    const grads = layerPoints([run], 'grad_norm');
    assert.ok(grads.ok);
    assert.deepEqual([...new Set(grads.value.map((p) => p.step))], [10, 30]);
    // 8 indexed layers per step; the projection shortcut has no index and is left out. Mean of seeds 1 and 3.
    assert.equal(grads.value.length, 16);
    assert.equal(grads.value[0].value, 1 / 8 + 2);
    assert.equal(grads.value[0].n, 2);
    const asked = layerPoints([run], 'grad_norm', [20]);
    assert.ok(asked.ok && asked.value.every((p) => p.step === 20));
    const missing = layerPoints([run], 'grad_norm', [25]);
    assert.ok(!missing.ok);
    assert.match(missing.error, /at step\(s\) 25; recorded steps: plain-8: 10,20,30/);
  });

  it('draws Fig. 7 with a line per network in each of the two panels, and gradients per variant panel', async () => {
    const run = {
      dir: 'r',
      name: 'x',
      rows: ['plain', 'residual'].flatMap((v) => [20, 56].flatMap((d) => [50, 100].flatMap((s) => rowsFor(v, d, s)))),
    };
    const responses = layerPoints([run], 'response_std');
    assert.ok(responses.ok);
    const svg = await renderDiagnosticsFigure('responses', responses.value, 'svg', { width: 900, height: 360, title: 'fig 7' });
    assert.ok(svg.ok, svg.ok ? '' : svg.error);
    assert.equal(XMLValidator.validate(svg.value as string), true);
    const nets = ['plain-20', 'plain-56', 'residual-20', 'residual-56'];
    assert.deepEqual(lineLabels(svg.value as string), [...nets, ...nets].sort());
    for (const t of ['original order', 'sorted by magnitude']) assert.ok((svg.value as string).includes(`Title text '${t}'`), t);

    // Networks at different last steps (runs of different lengths): every label says its step.
    const mixed = layerPoints([{ dir: 'a', name: 'a', rows: [...rowsFor('plain', 20, 100), ...rowsFor('plain', 56, 40)] }], 'response_std');
    assert.ok(mixed.ok);
    const m = await renderDiagnosticsFigure('responses', mixed.value, 'svg', { width: 900, height: 360 });
    assert.ok(m.ok);
    assert.deepEqual(lineLabels(m.value as string), ['plain-20, step 100', 'plain-20, step 100', 'plain-56, step 40', 'plain-56, step 40']);
    // Linear like the paper's axis, unless one network's responses dwarf the rest.
    assert.match(svg.value as string, /Y-axis titled 'response std' for a linear scale/);
    const dwarfing = rowsFor('plain', 56, 40).map((r) => (r.kind === 'response_std' && r.index === 1 ? { ...r, value: 100 } : r));
    const wide = layerPoints([{ dir: 'a', name: 'a', rows: [...rowsFor('plain', 20, 40), ...dwarfing] }], 'response_std');
    assert.ok(wide.ok);
    const w = await renderDiagnosticsFigure('responses', wide.value, 'svg', { width: 900, height: 360 });
    assert.ok(w.ok, w.ok ? "" : w.error);
    assert.match(w.value as string, /Y-axis titled 'response std \(log scale\)' for a log scale/);

    const grads = layerPoints([run], 'grad_norm', [50, 100]);
    assert.ok(grads.ok);
    const g = await renderDiagnosticsFigure('gradients', grads.value, 'svg', { width: 900, height: 360 });
    assert.ok(g.ok, g.ok ? '' : g.error);
    assert.deepEqual(lineLabels(g.value as string), nets.flatMap((n) => [`${n}, step 50`, `${n}, step 100`]).sort());
    assert.match(g.value as string, /Y-axis titled 'gradient L2 norm \(log scale\)' for a log scale/);
  });

  it('CLI: a run with diagnostics.every writes diagnostics.csv; plot --kind responses/gradients draw it', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'run');
      const run = await runInProcess([...tinyRunArgs(out), '--set', 'diagnostics.every=2', '--set', 'diagnostics.batch=20', '--set', 'model.variants=["plain","residual","preact"]']);
      assert.equal(run.code, 0, run.stderr);
      const rows = readDiagnosticsCsv(join(out, 'diagnostics.csv'));
      assert.ok(rows.ok, rows.ok ? '' : rows.error);
      assert.deepEqual([...new Set(rows.value.map((r) => r.step))], [2, 4, 6]);
      const all: DiagnosticsRow[] = rows.value;
      for (const variant of ['plain', 'residual', 'preact']) {
        const at = (kind: string) => all.filter((r) => r.variant === variant && r.step === 6 && r.kind === kind);
        // Depth 8: stem, six 3x3 convs, classifier; responses for the seven 3x3 layers.
        assert.deepEqual(at('grad_norm').map((r) => r.index), [1, 2, 3, 4, 5, 6, 7, 8], variant);
        assert.deepEqual(at('response_std').map((r) => r.index), [1, 2, 3, 4, 5, 6, 7], variant);
        assert.ok(all.every((r) => Number.isFinite(r.value) && r.value > 0));
      }

      const responses = await runInProcess(['plot', 'run', '--kind', 'responses'], { cwd: dir });
      assert.equal(responses.code, 0, responses.stderr);
      assert.equal(responses.stdout.trim(), join(out, 'responses.svg'));
      const nets = ['plain-8', 'residual-8', 'preact-8'];
      assert.deepEqual(lineLabels(readFileSync(join(out, 'responses.svg'), 'utf8')), [...nets, ...nets].sort());

      const grads = await runInProcess(['plot', 'run', '--kind', 'gradients', '--steps', '4', '-o', 'g.png'], { cwd: dir });
      assert.equal(grads.code, 0, grads.stderr);
      assert.deepEqual([...readFileSync(join(dir, 'g.png')).subarray(1, 4)], [0x50, 0x4e, 0x47]);

      const noSuchStep = await runInProcess(['plot', 'run', '--kind', 'gradients', '--steps', '3'], { cwd: dir });
      assert.equal(noSuchStep.code, 2);
      assert.match(noSuchStep.stderr, /recorded steps: plain-8: 2,4,6/);

      const offGrid = await runInProcess([...tinyRunArgs(join(dir, 'bad')), '--set', 'diagnostics.every=3']);
      assert.equal(offGrid.code, 2);
      assert.match(offGrid.stderr, /diagnostics\.every.*multiple of log\.every \(2\)/);

      // A run folder made without diagnostics: metrics only.
      mkdirSync(join(dir, 'off'));
      copyFileSync(join(out, 'metrics.csv'), join(dir, 'off', 'metrics.csv'));
      const noDiagnostics = await runInProcess(['plot', 'off', '--kind', 'responses'], { cwd: dir });
      assert.equal(noDiagnostics.code, 2);
      assert.match(noDiagnostics.stderr, /no diagnostics\.csv \(run with diagnostics\.every set/);
    });
  });
});
