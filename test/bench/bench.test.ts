import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../../src/backend/select.js';
import { compareLockstep, compareRows, markdownTable } from '../../src/bench/compare.js';
import { lockstepWorkload, timeLockstep } from '../../src/bench/lockstep.js';
import { fittingMicroBatch, WASM_HEAP_BUDGET } from '../../src/bench/memory.js';
import { benchOptionsSchema } from '../../src/bench/options.js';
import { lockstepRowSchema, median, trainingGflops, type BenchRow, type LockstepRow } from '../../src/bench/row.js';
import { configSchema } from '../../src/config/schema.js';
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
    assert.ok(r.cpuMs !== undefined && r.cpuMs > 0, 'CPU time per step');
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

const row = (backend: string, depth: number, medianMs: number, cpuMs?: number): BenchRow => ({
  backend,
  variant: 'residual',
  depth,
  batch: 128,
  threads: 2,
  medianMs,
  ...(cpuMs === undefined ? {} : { cpuMs }),
  imagesPerSec: 128_000 / medianMs,
  gflops: (6 * 40e6 * (128_000 / medianMs)) / 1e9,
  steps: 5,
});

test('comparison: median over rounds, ratio to PyTorch in wall and CPU time, failures kept as rows', () => {
  const rows = [
    row('pytorch', 20, 200, 190),
    row('pytorch', 20, 400, 390),
    row('pytorch', 20, 300, 290),
    row('onednn', 20, 250, 100),
    row('onednn', 20, 150, 400),
    row('wasm', 20, 4000),
  ];
  const compared = compareRows(rows, [{ backend: 'wasm', network: 'residual-56', reason: 'exit 1: boom' }], ['onednn', 'wasm']);
  const onednn = compared.find((r) => r.backend === 'onednn')!;
  assert.equal(onednn.ratio, 1.5, 'PyTorch at its median 300 ms, onednn at its 200');
  assert.equal(onednn.cpuRatio, 290 / 250, 'CPU medians taken separately');
  const wasm = compared.find((r) => r.backend === 'wasm' && r.network === 'residual-20')!;
  assert.equal(wasm.ratio, 0.075);
  assert.equal(wasm.cpuRatio, undefined, 'no CPU time measured');
  const table = markdownTable(compared);
  assert.match(table, /\| ResNet-20 \| onednn \| 128 \| 2 \| 200 \| 250 \| 640\.0 \| 153\.6 \| 1\.50× \| 1\.16× \| ≥ 1\.2× met \|/);
  assert.match(table, /\| ResNet-20 \| wasm \| 128 \| 2 \| 4000 \| – \| .* \| 0\.07× \| – \| ≥ 0\.06× met \|/);
  assert.match(table, /\| ResNet-56 \| wasm \| .*failed: exit 1: boom/);
});

test('lockstep comparison: one row per engine for the workload, against its own target', () => {
  const lockstep = (backend: string, medianMs: number, cpuMs: number): LockstepRow => ({
    backend,
    networks: ['plain-20', 'residual-20', 'plain-56', 'residual-56'],
    width: 8,
    batch: 32,
    threads: 1,
    medianMs,
    cpuMs,
    imagesPerSec: 32_000 / medianMs,
    gflops: (6 * 83e6 * (32_000 / medianMs)) / 1e9,
    steps: 5,
  });
  const compared = compareLockstep([lockstep('pytorch', 540, 530), lockstep('onednn', 400, 380)], [], ['onednn']);
  assert.deepEqual(compared.map((r) => r.backend), ['pytorch', 'onednn']);
  assert.equal(compared[1].ratio, 540 / 400);
  assert.match(markdownTable(compared), /\| lockstep plain-20 \+ residual-20 \+ plain-56 \+ residual-56 \(width 8\) \| onednn \| 32 \| 1 \| 400 \| 380 \| .* \| 1\.35× \| 1\.39× \| ≥ 1\.5× missed \|/);
});

test('the lockstep workload of a config: its networks in run order, its batch and SGD; timed on wasm', async () => {
  const config = configSchema.parse({
    model: { depths: [8, 14], variants: ['plain', 'residual'], width: 4 },
    train: { batchSize: 4, momentum: 0.8, weightDecay: 5e-4 },
  });
  const workload = lockstepWorkload(config);
  assert.deepEqual(workload.specs.map((s) => `${s.variant}-${s.depth}-w${s.width}-${s.shortcut}`), ['plain-8-w4-A', 'residual-8-w4-A', 'plain-14-w4-A', 'residual-14-w4-A']);
  assert.equal(workload.batch, 4);
  assert.deepEqual(workload.sgd, { momentum: 0.8, weightDecay: 5e-4 });
  assert.ok((await chooseBackend('wasm', { count: 1, adaptive: false })).ok);
  const r = timeLockstep(workload, { steps: 2, warmup: 1, seed: 1, threads: 1, backend: 'wasm' });
  assert.deepEqual(r.networks, ['plain-8', 'residual-8', 'plain-14', 'residual-14']);
  assert.equal(r.steps, 2);
  assert.ok(r.medianMs > 0 && r.cpuMs !== undefined && r.cpuMs > 0);
  const macs = tf.tidy(() => workload.specs.reduce((t, spec) => t + totalCost(buildNetwork(spec, 1).costs).macs, 0));
  assert.ok(Math.abs(r.gflops - (6 * macs * r.imagesPerSec) / 1e9) / r.gflops < 1e-2, 'all four networks\' multiply-adds per iteration');
  assert.equal(lockstepRowSchema.safeParse(r).success, true);
});
