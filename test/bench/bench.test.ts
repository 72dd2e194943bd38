import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { compareRows, markdownTable } from '../../src/bench/compare.js';
import { fittingMicroBatch, WASM_HEAP_BUDGET } from '../../src/bench/memory.js';
import { benchOptionsSchema } from '../../src/bench/options.js';
import { median, trainingGflops, type BenchRow } from '../../src/bench/row.js';
import { runBench } from '../../src/bench/run.js';
import { buildNetwork, totalCost } from '../../src/models/index.js';
import { createLogger } from '../../src/cli/ui/logger.js';

test('bench times real training steps on wasm: positive rates, GFLOP/s from the net multiply-adds', async () => {
  const options = benchOptionsSchema.parse({ depths: [8], variants: ['plain', 'residual'], batch: 4, backend: 'wasm', steps: 2, warmup: 1, threads: 1 });
  const { rows, skipped } = await runBench(options, createLogger({ quiet: true }).log);
  assert.deepEqual(skipped, []);
  assert.deepEqual(rows.map((r) => `${r.backend} ${r.variant}-${r.depth}`), ['wasm plain-8', 'wasm residual-8']);
  const macs = tf.tidy(() => totalCost(buildNetwork({ variant: 'residual', depth: 8, width: 16, shortcut: 'A' }, 1).costs).macs);
  for (const r of rows) {
    assert.equal(r.batch, 4);
    assert.equal(r.steps, 2);
    assert.equal(r.threads, 1);
    assert.equal(r.microBatch, 4, 'batch 4 fits in wasm memory whole');
    assert.ok(r.medianMs > 0 && r.imagesPerSec > 0 && r.gflops > 0);
    assert.ok(Math.abs(r.imagesPerSec - (4 * 1000) / r.medianMs) / r.imagesPerSec < 1e-3);
    assert.ok(Math.abs(r.gflops - (6 * macs * r.imagesPerSec) / 1e9) / r.gflops < 1e-2, `${r.gflops} vs macs ${macs}`);
  }
});

test('a batch that would pass the wasm heap budget is split into the largest even micro-batch that fits', () => {
  // ResNet-56 measured at ~17 MiB of tensors per image: 128 images would need ~2.1 GiB.
  const perImage = 17 * 2 ** 20;
  assert.equal(fittingMicroBatch(128, perImage, WASM_HEAP_BUDGET / 1.3), 64);
  assert.equal(fittingMicroBatch(128, 6 * 2 ** 20, WASM_HEAP_BUDGET / 1.3), 128);
  assert.equal(fittingMicroBatch(96, perImage, 40 * perImage), 32, 'a divisor of the batch, not just any size');
  assert.equal(fittingMicroBatch(128, 2 * WASM_HEAP_BUDGET, WASM_HEAP_BUDGET), undefined);
});

test('median of odd and even counts', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(trainingGflops(40e6, 100), 24);
});

const row = (backend: string, depth: number, medianMs: number): BenchRow => ({
  backend,
  variant: 'residual',
  depth,
  batch: 128,
  threads: 2,
  medianMs,
  imagesPerSec: 128_000 / medianMs,
  gflops: (6 * 40e6 * (128_000 / medianMs)) / 1e9,
  steps: 5,
});

test('comparison: median over rounds, ratio to PyTorch, failures kept as rows', () => {
  const rows = [row('pytorch', 20, 200), row('pytorch', 20, 400), row('pytorch', 20, 300), row('onednn', 20, 400), row('wasm', 20, 4000)];
  const compared = compareRows(rows, [{ backend: 'wasm', network: 'residual-56', reason: 'exit 1: boom' }], ['onednn', 'wasm']);
  const onednn = compared.find((r) => r.backend === 'onednn')!;
  assert.equal(onednn.ratio, 0.75, 'PyTorch at its median 300 ms');
  assert.equal(compared.find((r) => r.backend === 'wasm' && r.network === 'residual-20')!.ratio, 0.075);
  const table = markdownTable(compared);
  assert.match(table, /\| ResNet-20 \| onednn \| 128 \| 2 \| 400 \| 320\.0 \| 76\.8 \| 0\.75× \| ≥ 0\.7× met \|/);
  assert.match(table, /\| ResNet-56 \| wasm \| .*failed: exit 1: boom/);
});
