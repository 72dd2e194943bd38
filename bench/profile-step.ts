/**
 * Where one training step's time goes on a backend: per-kernel time of `trainStep` (the step `run` and `bench`
 * time) on src/models networks. Not a test; compare with `/usr/bin/python3 bench/pytorch_reference.py --profile`
 * (the interpreter Debian's torch is installed for) for PyTorch's per-op split of the same step.
 *
 *   npx tsc -p . && node dist/bench/profile-step.js [--backend onednn] [--depth 20] [--variant residual]
 *       [--width 16] [--batch 128] [--threads 2] [--steps 3] [--lockstep]
 *
 * --lockstep profiles one iteration of configs/fig6-cpu-long.json's workload instead: one step of each of plain
 * and residual at depths 20 and 56 (width 8, batch 32 unless given), as `run` trains them.
 *
 * Each kernel is timed in CPU time of the whole process (all threads) as well as wall time: on a shared machine
 * wall time includes waiting for a core, CPU time does not (at 1 thread it is the uncontended time). "outside
 * kernels" is the step minus the kernels: autodiff bookkeeping, tensor allocation and disposal, GC. On onednn it
 * also counts calls into the native addon (JS ↔ native crossings) and output buffers allocated fresh rather than
 * reused from the pool.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { loadAddon } from '../src/backend/onednn/addon.js';
import { PooledCpuBackend } from '../src/backend/onednn/pooled-backend.js';
import { benchNet, randomBatch, type BenchNet } from '../src/bench/measure.js';
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
    width: { type: 'string' },
    batch: { type: 'string' },
    threads: { type: 'string', default: '2' },
    steps: { type: 'string', default: '3' },
    lockstep: { type: 'boolean', default: false },
  },
});
const backend = backendNameSchema.parse(opts.backend);
const width = Number(opts.width ?? (opts.lockstep ? 8 : 16));
const batchSize = Number(opts.batch ?? (opts.lockstep ? 32 : 128));
const steps = Number(opts.steps);
const specs = opts.lockstep
  ? [20, 56].flatMap((depth) => (['plain', 'residual'] as const).map((variant) => ({ variant, depth, width, shortcut: 'A' as const })))
  : [{ variant: variantSchema.parse(opts.variant), depth: Number(opts.depth), width, shortcut: 'A' as const }];

// One untimed bench at batch 1 makes the backend current with its threads, as `bench` does.
await runBench(benchOptionsSchema.parse({ depths: [8], variants: ['residual'], batch: 1, backend, steps: 1, warmup: 0, threads: Number(opts.threads) }), createLogger({ quiet: true }).log);

interface Tally {
  calls: number;
  wallMs: number;
  cpuMs: number;
}
const tally = (map: Map<string, Tally>, key: string): Tally => {
  let t = map.get(key);
  if (!t) map.set(key, (t = { calls: 0, wallMs: 0, cpuMs: 0 }));
  return t;
};
const cpuMicros = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

// Every kernel of the current backend, re-registered inside a timer (kernels are looked up per call).
const byKernel = new Map<string, Tally>();
let timing = false;
let depthNow = 0;
for (const kernel of tf.getKernelsForBackend(tf.getBackend())) {
  const inner = kernel.kernelFunc;
  tf.unregisterKernel(kernel.kernelName, kernel.backendName);
  tf.registerKernel({
    ...kernel,
    kernelFunc: (args) => {
      // Kernels that call other kernels through the engine would be counted twice: only the outermost counts.
      if (!timing || depthNow > 0) return inner(args);
      depthNow++;
      const c0 = cpuMicros();
      const w0 = performance.now();
      try {
        return inner(args);
      } finally {
        const wall = performance.now() - w0;
        const cpu = (cpuMicros() - c0) / 1000;
        depthNow--;
        const shape = kernel.kernelName.startsWith('Conv2D') ? ` ${Object.values(args.inputs).map((t) => `[${t?.shape.join(',')}]`).join(' ')}` : '';
        for (const key of [kernel.kernelName, `#${kernel.kernelName}${shape}`]) {
          const t = tally(byKernel, key);
          t.calls++;
          t.wallMs += wall;
          t.cpuMs += cpu;
        }
      }
    },
  });
}

const addon = loadAddon();
/** Calls into the native addon so far (each counts itself). */
const nativeCalls = (): number => (backend === 'onednn' && addon.ok ? addon.value.calls() - 1 : 0);
const pool = tf.backend() instanceof PooledCpuBackend ? (tf.backend() as PooledCpuBackend) : undefined;

const nets: BenchNet[] = specs.map((spec) => benchNet(spec, 1));
const batch = randomBatch(batchSize, 1);
const iteration = () => {
  for (const n of nets) trainStep(n.net, n.sgd, batch, 0.01);
};
for (let i = 0; i < 2; i++) iteration();

// First untimed kernels: the per-kernel clocks below cost a few microseconds per call themselves.
let plainWall = 0;
let plainCpu = 0;
for (let s = 0; s < steps; s++) {
  const c0 = cpuMicros();
  const w0 = performance.now();
  iteration();
  plainWall += performance.now() - w0;
  plainCpu += (cpuMicros() - c0) / 1000;
}

let wall = 0;
let cpu = 0;
const allocBefore = pool?.allocationStats();
const callsBefore = nativeCalls();
timing = true;
for (let s = 0; s < steps; s++) {
  const c0 = cpuMicros();
  const w0 = performance.now();
  iteration();
  wall += performance.now() - w0;
  cpu += (cpuMicros() - c0) / 1000;
}
timing = false;
const crossings = nativeCalls() - callsBefore - 1;
const allocAfter = pool?.allocationStats();

const kernels = [...byKernel].filter(([k]) => !k.startsWith('#'));
const inKernels = kernels.reduce((t, [, e]) => ({ wall: t.wall + e.wallMs, cpu: t.cpu + e.cpuMs, calls: t.calls + e.calls }), { wall: 0, cpu: 0, calls: 0 });
const per = (x: number) => x / steps;
const macs = nets.reduce((t, n) => t + n.macsPerImage, 0);
const what = opts.lockstep ? `lockstep ${specs.map((s) => `${s.variant}-${s.depth}`).join(' + ')} (width ${width})` : `${specs[0].variant}-${specs[0].depth} (width ${width})`;
console.log(`${backend}, ${opts.threads} thread(s), ${what}, batch ${batchSize}; load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores`);
const unit = opts.lockstep ? 'iteration' : 'step';
console.log(
  `per ${unit}: ${per(plainCpu).toFixed(1)} ms CPU (${per(plainWall).toFixed(1)} ms wall), ` +
    `${((6 * macs * batchSize) / (per(plainCpu) / 1000) / 1e9).toFixed(1)} GFLOP/s per CPU-second; ` +
    `profiled: ${per(cpu).toFixed(1)} ms CPU, kernels ${per(inKernels.cpu).toFixed(1)} ms CPU in ${per(inKernels.calls).toFixed(0)} calls, ` +
    `outside kernels ${per(cpu - inKernels.cpu).toFixed(1)} ms CPU`,
);
if (backend === 'onednn') {
  const fresh = allocAfter && allocBefore ? per(allocAfter.fresh - allocBefore.fresh) : NaN;
  const reused = allocAfter && allocBefore ? per(allocAfter.reused - allocBefore.reused) : NaN;
  const small = allocAfter && allocBefore ? per(allocAfter.small - allocBefore.small) : NaN;
  console.log(`native calls: ${per(crossings).toFixed(0)}; pooled outputs: ${reused.toFixed(0)} reused, ${fresh.toFixed(0)} fresh; ${small.toFixed(0)} small (unpooled)`);
}
console.log('\n| kernel | calls | CPU ms | % | wall ms |\n|---|---:|---:|---:|---:|');
for (const [name, e] of kernels.sort((a, b) => b[1].cpuMs - a[1].cpuMs).slice(0, 18)) {
  console.log(`| ${name} | ${per(e.calls).toFixed(0)} | ${per(e.cpuMs).toFixed(1)} | ${((100 * e.cpuMs) / cpu).toFixed(1)} | ${per(e.wallMs).toFixed(1)} |`);
}
console.log(`| (outside kernels) | | ${per(cpu - inKernels.cpu).toFixed(1)} | ${((100 * (cpu - inKernels.cpu)) / cpu).toFixed(1)} | ${per(wall - inKernels.wall).toFixed(1)} |`);
console.log('\nconvolutions by shape (inputs):');
for (const [name, e] of [...byKernel].filter(([n]) => n.startsWith('#Conv2D')).sort((a, b) => b[1].cpuMs - a[1].cpuMs).slice(0, 24)) {
  console.log(`  ${name.slice(1).padEnd(60)} ${per(e.calls).toFixed(0).padStart(3)}x ${per(e.cpuMs).toFixed(1).padStart(8)} ms CPU`);
}
for (const n of nets) n.dispose();
