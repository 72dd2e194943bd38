import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { benchRowSchema } from '../../src/bench/row.js';
import { runInProcess } from '../helpers/cli.js';

test('bench --json prints an array of rows on stdout, logs on stderr', async () => {
  const r = await runInProcess(['bench', '--depths', '8', '--variants', 'residual', '--batch', '4', '--steps', '2', '--warmup', '0', '--backend', 'wasm', '--threads', '1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rows = z.array(benchRowSchema.strict()).parse(JSON.parse(r.stdout));
  assert.equal(rows.length, 1);
  assert.deepEqual(Object.keys(rows[0]).sort(), ['backend', 'batch', 'cpuMs', 'depth', 'gflops', 'imagesPerSec', 'medianMs', 'microBatch', 'params', 'steps', 'threads', 'variant']);
  assert.equal(rows[0].backend, 'wasm');
  assert.match(r.stderr, /wasm residual-8: .* images\/s/);
});

test('bench: bad options exit 2 with one line naming the problem, before any backend loads', async () => {
  const [depth, micro] = await Promise.all([
    runInProcess(['bench', '--depths', '20,21', '--backend', 'wasm']),
    runInProcess(['bench', '--batch', '128', '--micro-batch', '48', '--backend', 'wasm']),
  ]);
  assert.equal(depth.code, 2);
  assert.match(depth.stderr, /depths\.1: must be 6n\+2/);
  assert.equal(micro.code, 2);
  assert.match(micro.stderr, /--micro-batch 48 must divide --batch 128/);
});
