import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { readRun } from '../../src/report/read-run.js';
import { runSummarySchema, type RunSummary } from '../../src/record/summary.js';
import { runCli, runInProcess, tinyRunArgs, withTempDir } from '../helpers/cli.js';

type Row = Record<string, string>;
const readCsv = (path: string): Row[] => parse(readFileSync(path, 'utf8'), { columns: true }) as Row[];
/** Timing columns are the only ones allowed to differ between identical runs. */
const withoutTiming = (rows: Row[]) => rows.map(({ images_per_sec: _i, wall_seconds: _w, ...rest }) => rest);

describe('resnet-exp run (smoke, synthetic data, wasm)', () => {
  // The real bin: what a script reading its stdout gets, TF.js's start-up included.
  it('writes config, CSV rows for both variants with falling loss, a summary, and the summary on stdout with --json', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'run');
      const r = await runCli([...tinyRunArgs(out, 24), '--set', 'log.every=4', '--set', 'eval.every=12', '--set', 'train.lr=0.05', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const summary = runSummarySchema.strict().parse(JSON.parse(r.stdout));
      // stdout is the summary alone, exactly as summary.json holds it.
      assert.equal(r.stdout, `${JSON.stringify(summary, null, 2)}\n`);
      assert.deepEqual(summary, JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')));
      assert.deepEqual(
        [summary.status, summary.backend, summary.run_dir, summary.iterations, summary.steps_completed, summary.seeds],
        ['completed', 'wasm', out, 24, 24, [1]],
      );
      assert.deepEqual(summary.networks.map((n) => `${n.variant}-${n.depth}`), ['plain-8', 'residual-8']);
      for (const file of ['config.json', 'metrics.csv', 'log.jsonl', 'summary.json']) assert.ok(existsSync(join(out, file)), file);
      const recorded = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { run: { backend: string } };
      assert.equal(recorded.run.backend, 'wasm');

      const rows = readCsv(join(out, 'metrics.csv'));
      for (const variant of ['plain', 'residual']) {
        const mine = rows.filter((row) => row.variant === variant);
        // The summary's figures are the last row's and the best evaluation's.
        const net = summary.networks.find((n) => n.variant === variant)!;
        const tests = mine.filter((row) => row.test_error !== '').map((row) => Number(row.test_error));
        // metrics.csv keeps 6 significant digits.
        const sixDigits = (v: number | null) => (v === null ? null : Number(v.toPrecision(6)));
        assert.deepEqual(
          [net.status, sixDigits(net.final_train_loss), net.final_train_error, net.final_test_error, net.best_test_error],
          ['done', Number(mine.at(-1)!.train_loss), Number(mine.at(-1)!.train_error), Number(mine.at(-1)!.test_error), Math.min(...tests)],
        );
        assert.deepEqual(mine.map((row) => Number(row.step)), [4, 8, 12, 16, 20, 24]);
        assert.ok(Number(mine.at(-1)!.train_loss) < Number(mine[0].train_loss), `${variant}: loss did not go down`);
        assert.deepEqual(mine.map((row) => row.test_error !== ''), [false, false, true, false, false, true]);
        for (const row of mine) {
          const e = Number(row.train_error);
          assert.ok(e >= 0 && e <= 1);
        }
      }
    });
  });

  it('the same seed gives the same CSV on the same backend; another seed does not', async () => {
    await withTempDir(async (dir) => {
      const runs = await Promise.all(
        [['a', '1'], ['b', '1'], ['c', '2']].map(async ([name, seed]) => {
          const out = join(dir, name);
          const r = await runInProcess([...tinyRunArgs(out, 6), '--seed', seed]);
          assert.equal(r.code, 0, r.stderr);
          return withoutTiming(readCsv(join(out, 'metrics.csv')));
        }),
      );
      assert.deepEqual(runs[0], runs[1]);
      assert.notDeepEqual(runs[0], runs[2]);
    });
  });

  it('refuses an --out folder that already holds a run unless --force', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'run');
      assert.equal((await runInProcess(tinyRunArgs(out, 2))).code, 0);
      const again = await runInProcess(tinyRunArgs(out, 2));
      assert.equal(again.code, 2);
      assert.match(again.stderr, /already holds a run.*--force/);
      assert.equal((await runInProcess([...tinyRunArgs(out, 2), '--force'])).code, 0);
      // Overwritten, not appended to: one run's rows only.
      assert.equal(readCsv(join(out, 'metrics.csv')).length, 2);
    });
  });

  it('a diverging network is a result, not a crash: marked diverged while the others train on', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'run');
      const r = await runInProcess([...tinyRunArgs(out, 12), '--set', 'train.lr=1e6', '--set', 'eval.every=4', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as RunSummary;
      assert.equal(summary.status, 'completed');
      const diverged = summary.networks.filter((n) => n.status === 'diverged');
      assert.ok(diverged.length >= 1, 'expected a network to diverge at lr 1e6');
      const rows = readCsv(join(out, 'metrics.csv'));
      for (const n of summary.networks) {
        const mine = rows.filter((row) => row.variant === n.variant);
        const last = mine.at(-1)!;
        if (n.status === 'diverged') {
          assert.equal(last.status, 'diverged');
          assert.equal(last.train_loss, 'NaN');
          assert.ok(Number(last.step) < 12);
        } else {
          assert.equal(last.step, '12');
          assert.equal(last.status, 'done');
        }
      }
      // report and plot read it back through the row schema: the NaN loss of a diverged row is legitimate there.
      const read = readRun(out);
      assert.ok(read.ok, read.ok ? '' : read.error);
    });
  });
});
