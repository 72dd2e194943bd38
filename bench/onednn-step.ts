/**
 * Micro-benchmark of the onednn backend on a CIFAR ResNet training step (not a test).
 *
 *   npx tsc -p . && node dist/bench/onednn-step.js [--depth 20] [--batch 128] [--steps 5] [--shortcut A|B] [--profile]
 *
 * Times the product's training step (src/train/step.ts: forward and backward in training mode, SGD with momentum
 * and weight decay) on the product's network (src/models: buildNetwork), so its figures are the network `run`
 * trains, and compares images/s with PyTorch 1.13 CPU on the same 2-core machine. --profile adds a per-kernel
 * breakdown of one step.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadOnednnBackend, onednnInfo } from '../src/backend/onednn.js';
import { benchNet, randomBatch, type BenchNet } from '../src/bench/measure.js';
import { trainStep, type Batch } from '../src/train/step.js';

/** PyTorch 1.13 CPU, batch 128 fp32, this machine (images/s). */
const PYTORCH: Record<number, number> = { 20: 462, 56: 166 };

const { values: opts } = parseArgs({
  options: {
    depth: { type: 'string', default: '20' },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    shortcut: { type: 'string', default: 'A' },
    backend: { type: 'string', default: 'onednn' },
    profile: { type: 'boolean', default: false },
  },
});
const depth = Number(opts.depth);
const batch = Number(opts.batch);
const shortcutOption = opts.shortcut === 'B' ? 'B' : 'A';

const step = (net: BenchNet, data: Batch): number => trainStep(net.net, net.sgd, data, 0.01).loss;

async function main(): Promise<void> {
  if (opts.backend === 'onednn') {
    const loaded = await loadOnednnBackend();
    if (!loaded.ok) {
      console.error(`onednn unavailable: ${loaded.error}`);
      process.exit(1);
    }
  } else {
    await tf.setBackend(opts.backend ?? 'cpu');
  }
  const info = onednnInfo();
  console.log(
    `backend ${tf.getBackend()}${info ? ` (oneDNN ${info.version}, ${info.threads} threads${info.adaptive ? ', adapting to load' : ''})` : ''}: ` +
      `ResNet-${depth} option ${shortcutOption}, batch ${batch}`,
  );

  // The variables are created when the network is built, outside the timed steps.
  const net = benchNet({ variant: 'residual', depth, width: 16, shortcut: shortcutOption }, 1);
  const data = randomBatch(batch, 1);

  for (let i = 0; i < Number(opts.warmup); i++) step(net, data);
  const times: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < Number(opts.steps); i++) {
    const t0 = performance.now();
    step(net, data);
    times.push(performance.now() - t0);
  }
  // CPU time over all threads (OpenMP spin-waits included): on a shared, loaded machine wall time is inflated
  // by waiting for a core, and with 1 thread the CPU time approximates the uncontended step time.
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMsPerStep = (cpu.user + cpu.system) / 1000 / Number(opts.steps);
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const best = times[0];
  const ips = (ms: number) => (batch * 1000) / ms;
  console.log(`step ms: median ${median.toFixed(1)}, best ${best.toFixed(1)} (${times.map((t) => t.toFixed(0)).join(' ')})`);
  console.log(`images/s: median ${ips(median).toFixed(0)}, best ${ips(best).toFixed(0)}`);
  console.log(`CPU time per step (all threads): ${cpuMsPerStep.toFixed(1)} ms; load average ${os.loadavg()[0].toFixed(2)} on ${os.availableParallelism()} cores`);
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const end = onednnInfo();
  if (end) console.log(`threads at the end: ${end.threads}${end.adaptive ? ' (adapting to load)' : ' (fixed)'}`);
  console.log(`memory: rss ${mib(process.memoryUsage().rss)} MiB, peak rss ${mib(process.resourceUsage().maxRSS * 1024)} MiB, live tensors ${tf.memory().numTensors}`);
  const torch = PYTORCH[depth];
  if (torch && batch === 128) {
    console.log(`vs PyTorch 1.13 CPU ${torch} images/s: ${(ips(median) / torch).toFixed(2)}x (target >= 0.70x)`);
  }

  if (opts.profile) {
    const profile = await tf.profile(() => {
      step(net, data);
    });
    const byKernel = new Map<string, { calls: number; ms: number }>();
    for (const k of profile.kernels) {
      const e = byKernel.get(k.name) ?? { calls: 0, ms: 0 };
      e.calls++;
      e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      byKernel.set(k.name, e);
    }
    const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
    console.log(`\nper kernel (one profiled step, kernel time ${total.toFixed(0)} ms; nested kernels count twice):`);
    for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
      console.log(`  ${name.padEnd(32)} ${String(e.calls).padStart(4)} calls ${e.ms.toFixed(1).padStart(8)} ms`);
    }
  }
}

await main();
