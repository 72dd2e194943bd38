import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { renderSvg } from '../../src/report/plot.js';
import { loadRuns } from '../../src/report/read-run.js';
import { cli, withTempDir, writeRun, type FixtureRun } from './fixtures.js';

/** Three variants at two depths, with test errors every 10 steps. */
function threeVariants(seed: number): FixtureRun {
  const test = (base: number) => Object.fromEntries([10, 20, 30, 40].map((s) => [s, base - s / 400 + seed / 100]));
  return {
    seed,
    iterations: 40,
    logEvery: 5,
    nets: (['plain', 'residual', 'preact'] as const).flatMap((variant, v) =>
      [8, 14].map((depth) => ({ variant, depth, early: 0.8, final: 0.3 + v / 20 + depth / 200 + seed / 100, test: test(0.5 + v / 20) })),
    ),
  };
}

/** Every element of the parsed SVG, depth first. */
function* elements(node: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(node)) for (const n of node) yield* elements(n);
  else if (node !== null && typeof node === 'object') {
    yield node as Record<string, unknown>;
    for (const v of Object.values(node)) yield* elements(v);
  }
}

const parseSvg = (svg: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(svg) as unknown;

describe('plot', () => {
  it('draws a well-formed SVG with one line per (variant, depth, split) and seed bands', async () => {
    await withTempDir(async (dir) => {
      writeRun(dir, [threeVariants(1), threeVariants(2)]);
      const runs = loadRuns([dir]);
      assert.ok(runs.ok);
      const rendered = await renderSvg(runs.value.flatMap((r) => r.rows), { metric: 'error', width: 900, height: 360 });
      assert.ok(rendered.ok, rendered.ok ? '' : rendered.error);
      const svg = rendered.value;
      assert.equal(XMLValidator.validate(svg), true);
      const all = [...elements(parseSvg(svg))];
      const lines = all.filter((e) => e['@aria-roledescription'] === 'line mark').map((e) => e['@aria-label']);
      const expected = ['plain', 'residual', 'preact'].flatMap((v) => [8, 14].flatMap((d) => [`${v}-${d} training`, `${v}-${d} test`]));
      assert.deepEqual([...lines].sort(), [...expected].sort());
      // Two seeds disagree everywhere: a band behind each of the 12 lines.
      assert.equal(all.filter((e) => e['@aria-roledescription'] === 'area mark').length, 12);
      const svgRoot = all.find((e) => '@width' in e && '@viewBox' in e);
      assert.ok(svgRoot);
      assert.deepEqual([Number(svgRoot['@width']), Number(svgRoot['@height'])], [900, 360]);
      // Shared y range: one y axis for the three panels.
      assert.equal((svg.match(/Y-axis titled 'error \(%\)'/g) ?? []).length, 1);
      for (const panel of ['plain', 'residual (ResNet)', 'pre-activation ResNet']) assert.ok(svg.includes(`Title text '${panel}'`), panel);
    });
  });

  it('CLI: PNG of the requested size, and SVG by default into the first run folder', async () => {
    await withTempDir(async (dir) => {
      writeRun(join(dir, 'run'), threeVariants(1));
      const png = await cli(['plot', 'run', '-o', 'fig.png', '--width', '640', '--height', '360'], dir);
      assert.equal(png.code, 0, png.stderr);
      assert.equal(png.stdout.trim(), join(dir, 'fig.png'));
      const bytes = readFileSync(join(dir, 'fig.png'));
      assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.equal(bytes.subarray(12, 16).toString('latin1'), 'IHDR');
      assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [640, 360]);

      const svg = await cli(['plot', 'run', '--metric', 'loss'], dir);
      assert.equal(svg.code, 0, svg.stderr);
      const file = join(dir, 'run', 'curves.svg');
      assert.ok(existsSync(file));
      const text = readFileSync(file, 'utf8');
      assert.equal(XMLValidator.validate(text), true);
      assert.match(text, /Y-axis titled 'loss \(log scale\)' for a log scale/);

      const wrongExt = await cli(['plot', 'run', '-o', 'fig.jpg'], dir);
      assert.equal(wrongExt.code, 2);
      assert.match(wrongExt.stderr, /\.svg or \.png/);

      const tooSmall = await cli(['plot', 'run', '-o', 'small.png', '--width', '150', '--height', '100'], dir);
      assert.equal(tooSmall.code, 2);
      assert.match(tooSmall.stderr, /too small for 3 panel\(s\)/);
      assert.ok(!existsSync(join(dir, 'small.png')));
    });
  });
});
