import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readRun, type RunData } from '../../src/report/read-run.js';
import { buildReport } from '../../src/report/report.js';
import { canonicalRow } from '../../src/serve/canonical-row.js';
import { readRowsSince } from '../../src/serve/metrics-tail.js';
import { MetricsCsv, METRICS_COLUMNS, metricsRowSchema, type MetricsRow } from '../../src/record/metrics-csv.js';
import { ReportRows } from '../../src/serve/report-rows.js';
import { withTempDir } from '../report/fixtures.js';

/**
 * Rows as the runner writes them (every network at each logging point, seeds one after another), with curves
 * that wander so that best, last and windowed values all differ: plain-20 diverges in seed 2, seed 3 stops early.
 */
function lockstepRows(): MetricsRow[] {
  const rows: MetricsRow[] = [];
  const nets = [
    ['plain', 20],
    ['plain', 56],
    ['residual', 20],
    ['residual', 56],
  ] as const;
  for (const [seedIndex, seed] of [1, 2, 3].entries()) {
    const last = seed === 3 ? 130 : 200;
    for (let step = 4; step <= last; step += 4) {
      for (const [n, [variant, depth]] of nets.entries()) {
        if (seed === 2 && variant === 'plain' && depth === 20 && step > 100) continue;
        const diverging = seed === 2 && variant === 'plain' && depth === 20 && step === 100;
        const wave = Math.sin(step * 0.37 + n + seedIndex * 1.3);
        const evaluated = step % 20 === 0;
        rows.push({
          seed,
          variant,
          depth,
          step,
          epoch: step / 50,
          lr: 0.1,
          train_loss: diverging ? Number.NaN : 2 - step / 150,
          train_error: diverging ? Number.NaN : Math.round((0.9 - step / 300 + 0.05 * wave + n * 0.01) * 1e4) / 1e4,
          test_loss: evaluated ? 2.5 - step / 120 : null,
          // Rounded, so that equal best errors at two steps happen.
          test_error: evaluated && !diverging ? Math.round((0.8 - step / 400 + 0.04 * wave) * 100) / 100 : null,
          images_per_sec: 100,
          wall_seconds: step,
          status: diverging ? 'diverged' : step === 200 ? 'done' : 'training',
        });
      }
    }
  }
  return rows;
}

const runData = (rows: MetricsRow[]): RunData => ({ dir: '/runs/a', name: 'a', rows, params: new Map([['plain-20', 270000]]), config: { name: 'a' }, warnings: [] });

describe('serve: reading metrics.csv as it grows', () => {
  it('ReportRows keeps few rows and gives the report of every row, however the rows arrive', () => {
    const all = lockstepRows();
    for (const chunk of [1, 7, 50, all.length]) {
      const kept = new ReportRows();
      for (let i = 0; i < all.length; i += chunk) {
        kept.add(all.slice(i, i + chunk));
        // At every point of the run, not only at its end: the index shows runs while they train.
        if (i % (chunk * 13) === 0 || i + chunk >= all.length) {
          const seen = all.slice(0, i + chunk);
          for (const includeUnfinished of [false, true]) {
            assert.deepEqual(buildReport([runData(kept.rows())], '/', { includeUnfinished }), buildReport([runData(seen)], '/', { includeUnfinished }), `chunk ${chunk}, row ${i}`);
          }
        }
      }
      assert.equal(kept.seen, all.length);
      assert.ok(kept.rows().length < all.length / 4, `kept ${kept.rows().length} of ${all.length} rows`);
    }
  });

  it('the quick reading of lines as the writer writes them gives what the schema gives, and leaves every other line to it', async () => {
    const numbers = [0, 1, 12, 0.5, 1.5e-7, 2.5e21, -3.25, 1e-7, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 123456789, 0.000123457];
    const rows: MetricsRow[] = numbers.flatMap((x, i) =>
      (['training', 'done', 'diverged'] as const).map((status) => ({
        seed: i,
        variant: i % 2 ? 'plain' : 'residual',
        depth: 20 + i,
        step: 1000 * i,
        epoch: x,
        lr: numbers[(i + 1) % numbers.length],
        train_loss: i % 3 === 0 ? null : x,
        train_error: x,
        test_loss: status === 'done' ? x : null,
        test_error: i % 2 ? null : numbers[(i + 5) % numbers.length],
        images_per_sec: i % 4 === 0 ? null : 812.25,
        wall_seconds: Math.abs(x),
        status,
      })),
    );
    await withTempDir((dir) => {
      // Through the real writer, as metrics.csv holds them.
      new MetricsCsv(join(dir, 'metrics.csv')).append(rows);
      const lines = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').slice(1);
      assert.equal(lines.length, rows.length);
      for (const line of lines) {
        const cells = Object.fromEntries(line.split(',').map((c, k) => [METRICS_COLUMNS[k], c]));
        // What the schema accepts, the quick reading gives as the schema does; what it refuses is left to it.
        const schema = metricsRowSchema.safeParse(cells);
        assert.deepEqual(canonicalRow(line), schema.success ? schema.data : undefined, line);
      }
    });
    const base = ['1', 'plain', '20', '5', '0.5', '0.1', '1.2', '0.6', '', '', '812', '3.5', 'training'];
    for (const [column, text] of [['epoch', '+5'], ['epoch', '.5'], ['lr', '1E5'], ['variant', ' plain'], ['train_loss', ' 1'], ['seed', '01x'], ['status', 'Done'], ['step', '-5'], ['train_error', '1,5'], ['status', 'ok'], ['step', '1.5'], ['variant', '']] as const) {
      const cells = [...base];
      cells[METRICS_COLUMNS.indexOf(column)] = text;
      assert.equal(canonicalRow(cells.join(',')), undefined, `${column}=${text}: left to the schema`);
    }
    assert.ok(canonicalRow(base.join(',')));
  });

  it('reads only whole rows from an offset: a row still being written waits, bad offsets and bad rows are errors by line', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'metrics.csv');
      const csv = new MetricsCsv(path);
      const rows = lockstepRows().slice(0, 10);
      csv.append(rows.slice(0, 6));
      const read = (since: number, maxBytes = 1 << 20) => readRowsSince(path, dir, since, { maxBytes, shown: 'm.csv' });
      const first = read(0);
      assert.ok(first.ok);
      assert.equal(first.value.rows.length, 6);
      assert.equal(first.value.next, first.value.size);
      // As readRun parses them: the same rows.
      writeFileSync(join(dir, 'config.json'), '{}');
      const whole = readRun(dir);
      assert.ok(whole.ok);
      assert.deepEqual(first.value.rows, whole.value.rows);

      // Half a row: not given until its line end is there.
      const text = readFileSync(path, 'utf8');
      csv.append(rows.slice(6, 7));
      const seventh = readFileSync(path, 'utf8').slice(text.length);
      writeFileSync(path, text + seventh.slice(0, 20));
      const half = read(first.value.next);
      assert.ok(half.ok);
      assert.deepEqual(half.value.rows, []);
      assert.equal(half.value.next, first.value.next);
      appendFileSync(path, seventh.slice(20));
      const completed = read(first.value.next);
      assert.ok(completed.ok);
      const seven = readRun(dir);
      assert.ok(seven.ok);
      // The writer's rounding, as readRun reads it back.
      assert.deepEqual(completed.value.rows, seven.value.rows.slice(6, 7));

      // A small byte limit: rows come a few at a time, each once, and the caller goes on from `next`.
      const pieces: MetricsRow[] = [];
      for (let since = 0; ; ) {
        const got = read(since, 300);
        assert.ok(got.ok);
        pieces.push(...got.value.rows);
        if (got.value.next === since) break;
        since = got.value.next;
      }
      assert.deepEqual(pieces, seven.value.rows);

      const mid = read(first.value.next - 3);
      assert.ok(!mid.ok);
      assert.equal(mid.error.kind, 'offset');
      const beyond = read(10 ** 9);
      assert.ok(!beyond.ok && beyond.error.kind === 'offset');

      appendFileSync(path, '1,plain,20,999,1,0.1,oops,0.5,,,1,1,training\n');
      const bad = read(completed.value.next);
      assert.ok(!bad.ok);
      assert.equal(bad.error.kind, 'malformed');
      assert.match(bad.error.message, /^m\.csv: line 9: column train_loss: not a number/);
      const short = join(dir, 'short');
      mkdirSync(short);
      writeFileSync(join(short, 'metrics.csv'), `${text.split('\n')[0]}\n1,plain,20\n`);
      const shortRead = readRowsSince(join(short, 'metrics.csv'), short, 0, { maxBytes: 1 << 20, shown: 's.csv' });
      assert.ok(!shortRead.ok);
      assert.match(shortRead.error.message, /^s\.csv: line 2: 3 cells, the header has 13/);
    });
  });
});
