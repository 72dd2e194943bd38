import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Variant } from '../../src/config/schema.js';
import { loadRuns } from '../../src/report/read-run.js';
import { buildReport } from '../../src/report/report.js';
import { withTempDir, writeRun } from './fixtures.js';

const reportOf = (dirs: string[]) => {
  const runs = loadRuns(dirs);
  assert.ok(runs.ok, runs.ok ? '' : runs.error);
  return buildReport(runs.value);
};

describe('ablation reports (He et al. 2016, Tables 1 and 2)', () => {
  it('rank the units of one depth by final test error, best first, diverged ones named apart', async () => {
    await withTempDir((dir) => {
      const net = (variant: Variant, test: number, diverged = false) => ({ variant, depth: 110, final: 0.05, test: { 100: test }, diverged });
      writeRun(dir, {
        seed: 1,
        iterations: 100,
        logEvery: 10,
        nets: [net('residual', 0.0661), net('bn-after-add', 0.0817), net('preact', 0.0637), net('relu-before-add', 0.0784), net('dropout-shortcut', 0.5, true)],
      });
      const report = reportOf([dir]);
      // Rows keep the papers' order (the schema's), whatever the errors.
      assert.deepEqual(report.networks.map((n) => n.variant), ['residual', 'dropout-shortcut', 'bn-after-add', 'relu-before-add', 'preact']);
      assert.deepEqual(report.verdicts.rankings.map((r) => [r.depth, r.order.map((o) => o.variant), r.unranked]), [
        [110, ['preact', 'residual', 'relu-before-add', 'bn-after-add'], ['dropout-shortcut']],
      ]);
      assert.equal(
        report.verdicts.lines.at(-1),
        'Depth 110 by final test error, best first: preact 6.37% < residual 6.61% < relu-before-add 7.84% < bn-after-add 8.17%; no test error (diverged): dropout-shortcut.',
      );
    });
  });

  it('no ranking for two networks of a depth: the table already compares them', async () => {
    await withTempDir((dir) => {
      writeRun(dir, { seed: 1, iterations: 100, logEvery: 10, nets: [{ variant: 'plain', depth: 20, final: 0.1, test: { 100: 0.2 } }, { variant: 'residual', depth: 20, final: 0.1, test: { 100: 0.1 } }] });
      assert.deepEqual(reportOf([dir]).verdicts.rankings, []);
    });
  });

  it('different architectures are different settings; a key a run predates counts as its default', async () => {
    await withTempDir((dir) => {
      const runs = {
        old: { name: 'x', seed: 1, model: { depth: 20, shortcut: 'A' } },
        basic: { name: 'x', seed: 2, model: { depth: 20, shortcut: 'A', block: 'basic', ablation: { gateBias: -6 } } },
        bottleneck: { name: 'x', seed: 3, model: { depth: 20, shortcut: 'A', block: 'bottleneck' } },
      };
      for (const [name, config] of Object.entries(runs)) {
        writeRun(join(dir, name), { seed: config.seed, iterations: 100, logEvery: 10, nets: [{ variant: 'residual', depth: 20, final: 0.1, test: { 100: 0.1 } }] });
        writeFileSync(join(dir, name, 'config.json'), JSON.stringify(config));
      }
      const report = reportOf(Object.keys(runs).map((name) => join(dir, name)));
      assert.deepEqual(report.networks.map((n) => [n.setting, n.seed_list]), [
        ['model.block=basic', [1, 2]],
        ['model.block=bottleneck', [3]],
      ]);
    });
  });
});
