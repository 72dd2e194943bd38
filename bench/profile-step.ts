/**
 * Where one training step's time goes on a backend: per-kernel time of `trainStep` (the step `run` and `bench`
 * time) on a src/models network, from tf.profile. Not a test; compare with
 * `python3 bench/pytorch_reference.py --profile` for PyTorch's per-op split of the same step.
 *
 *   npx tsc -p . && node dist/bench/profile-step.js [--backend onednn] [--depth 20] [--variant residual] [--batch 128]
 *                                                   [--threads 2] [--steps 3]
 *
 * Kernel times are wall times around each synchronous kernel call (the cpu-derived backends run them on the main
 * thread); "outside kernels" is the step's wall time minus their sum: autodiff bookkeeping, tensor allocation, GC.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { benchNet, randomBatch } from '../src/bench/measure.js';
import { runBench } from '../src/bench/run.js';
import { benchOptionsSchema } from '../src/bench/options.js';
import { backendNameSchema, variantSchema } from '../src/config/schema.js';
import { createLogger } from '../src/cli/ui/logger.js';
import { trainStep } from '../src/train/step.js';

const { values: opts } = parseArgs({
  options: {
    backend: { type: 'string', default: 'onednn' },
    depth: { type: 'string', default: '20' },
    variant: { type: 'string', default: 'residual' },
    batch: { type: 'string', default: '128' },
    threads: { type: 'string', default: '2' },
    steps: { type: 'string', default: '3' },
  },
});
const backend = backendNameSchema.parse(opts.backend);
const variant = variantSchema.parse(opts.variant);
const depth = Number(opts.depth);
const batchSize = Number(opts.batch);

// One untimed bench at batch 1 makes the backend current with its threads, as `bench` does.
await runBench(benchOptionsSchema.parse({ depths: [8], variants: ['residual'], batch: 1, backend, steps: 1, warmup: 0, threads: Number(opts.threads) }), createLogger({ quiet: true }).log);

const net = benchNet({ variant, depth, width: 16, shortcut: 'A' }, 1);
const batch = randomBatch(batchSize, 1);
for (let i = 0; i < 2; i++) trainStep(net.net, net.sgd, batch, 0.01);

const byKernel = new Map<string, { calls: number; ms: number }>();
let wall = 0;
const steps = Number(opts.steps);
for (let s = 0; s < steps; s++) {
  const start = performance.now();
  const info = await tf.profile(() => {
    trainStep(net.net, net.sgd, batch, 0.01);
  });
  wall += performance.now() - start;
  for (const k of info.kernels) {
    // customGrad's forward shows up as a scope around the kernels it runs: counting it would count them twice.
    if (tf.getKernel(k.name, tf.getBackend()) === undefined) continue;
    const shape = k.name.startsWith('Conv2D') ? ` ${k.inputShapes.map((s) => `[${s?.join(',')}]`).join(' ')}` : '';
    const e = byKernel.get(k.name + shape) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byKernel.set(k.name + shape, e);
  }
}
const total = [...byKernel.values()].reduce((t, e) => t + e.ms, 0) / steps;
const byName = new Map<string, number>();
for (const [key, e] of byKernel) byName.set(key.split(' ')[0], (byName.get(key.split(' ')[0]) ?? 0) + e.ms / steps);
console.log(`${backend} ${variant}-${depth}, batch ${batchSize}: ${(wall / steps).toFixed(0)} ms per profiled step, ${total.toFixed(0)} ms in kernels, ${(wall / steps - total).toFixed(0)} ms outside kernels`);
console.log('\nby kernel:');
for (const [name, ms] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${name.padEnd(34)} ${ms.toFixed(1).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
console.log('\nconvolutions by shape (inputs):');
for (const [name, e] of [...byKernel].filter(([n]) => n.startsWith('Conv2D')).sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`  ${name.padEnd(60)} ${(e.calls / steps).toFixed(0).padStart(3)}x ${(e.ms / steps).toFixed(1).padStart(8)} ms`);
}
net.dispose();
