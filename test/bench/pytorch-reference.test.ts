import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { z } from 'zod';
import { lockstepWorkload } from '../../src/bench/lockstep.js';
import { benchRowSchema, lockstepRowSchema } from '../../src/bench/row.js';
import { configSchema } from '../../src/config/schema.js';
import { buildNetwork, networkId, totalCost } from '../../src/models/index.js';
import { repoRoot } from '../helpers/cli.js';

const PYTHON = '/usr/bin/python3';
const torchMissing = (() => {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} not runnable: ${probe.error.message}`;
  return probe.status === 0 ? false : `PyTorch not importable (apt-get install python3-torch): ${probe.stderr.trim().split('\n').at(-1)}`;
})();

function reference(args: string[]) {
  const r = spawnSync(PYTHON, [join(repoRoot, 'bench', 'pytorch_reference.py'), ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return z.array(benchRowSchema.required({ params: true })).parse(JSON.parse(r.stdout));
}

function ourCost(variant: 'plain' | 'residual', depth: number) {
  const net = buildNetwork({ variant, depth, width: 16, shortcut: 'A' }, 1);
  net.params.dispose();
  return totalCost(net.costs);
}

test('the PyTorch reference trains the same networks: parameter counts and multiply-adds equal ours', { skip: torchMissing }, async () => {
  await tf.setBackend('cpu');
  // One interpreter for every case: importing torch is most of the time.
  const rows = reference(['--depths', '8,20', '--variants', 'plain,residual', '--batch', '4', '--steps', '2', '--warmup', '0', '--threads', '1']);
  assert.deepEqual(
    rows.map((r) => `${r.backend} ${r.variant}-${r.depth} ${r.batch} ${r.steps}`),
    ['pytorch plain-8 4 2', 'pytorch residual-8 4 2', 'pytorch plain-20 4 2', 'pytorch residual-20 4 2'],
  );
  for (const r of rows) {
    const ours = ourCost(r.variant as 'plain' | 'residual', r.depth);
    assert.equal(r.params, ours.params);
    assert.ok(r.imagesPerSec > 0 && r.medianMs > 0);
    assert.ok(Math.abs(r.gflops - (6 * ours.macs * r.imagesPerSec) / 1e9) / r.gflops < 1e-2, 'same multiply-adds per image');
  }
  assert.equal(rows[3].params, 269_722);
  assert.equal(ourCost('residual', 20).params, 269_722);
});

test('the PyTorch reference times the lockstep workload: the same networks in the same order, same multiply-adds', { skip: torchMissing }, async () => {
  await tf.setBackend('cpu');
  const args = ['--lockstep', '--depths', '8,14', '--variants', 'plain,residual', '--width', '4', '--batch', '4', '--steps', '2', '--warmup', '0', '--threads', '1'];
  const r = spawnSync(PYTHON, [join(repoRoot, 'bench', 'pytorch_reference.py'), ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const [row] = z.array(lockstepRowSchema).length(1).parse(JSON.parse(r.stdout));
  const config = configSchema.parse({ model: { depths: [8, 14], variants: ['plain', 'residual'], width: 4 }, train: { batchSize: 4 } });
  const specs = lockstepWorkload(config).specs;
  assert.deepEqual(row.networks, specs.map(networkId));
  assert.equal(row.width, 4);
  assert.ok(row.cpuMs !== undefined && row.cpuMs > 0);
  const macs = specs.reduce((t, spec) => {
    const net = buildNetwork(spec, 1);
    net.params.dispose();
    return t + totalCost(net.costs).macs;
  }, 0);
  assert.ok(Math.abs(row.gflops - (6 * macs * row.imagesPerSec) / 1e9) / row.gflops < 1e-2, 'same multiply-adds per iteration');
});
