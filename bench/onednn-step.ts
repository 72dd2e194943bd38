/**
 * Micro-benchmark of the onednn backend on a CIFAR ResNet training step (not a test).
 *
 *   npx tsc -p . && node dist/bench/onednn-step.js [--depth 20] [--batch 128] [--steps 5] [--shortcut A|B] [--profile]
 *
 * Times forward + backward of a He et al. CIFAR ResNet (3x3 convs at 16/32/64 channels, BN, ReLU, shortcuts,
 * global mean, dense, softmax cross-entropy) via tf.variableGrads plus a plain SGD update, and compares images/s
 * with PyTorch 1.13 CPU on the same 2-core machine. --profile adds a per-kernel breakdown of one step.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../src/ops/gradients.js'; // TF.js op gradients
import { loadOnednnBackend, onednnInfo } from '../src/backend/onednn.js';
import { batchNormTrain } from '../src/ops/batch-norm.js';

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

type Vars = Map<string, tf.Variable>;

function param(vars: Vars, name: string, init: () => tf.Tensor): tf.Variable {
  let v = vars.get(name);
  if (!v) {
    v = tf.variable(tf.tidy(init), true, name);
    vars.set(name, v);
  }
  return v;
}

function conv(vars: Vars, name: string, x: tf.Tensor4D, filters: number, kernel: number, stride: number): tf.Tensor4D {
  const shape = [kernel, kernel, x.shape[3], filters];
  const w = param(vars, name, () => tf.randomNormal(shape, 0, Math.sqrt(2 / (kernel * kernel * x.shape[3]))));
  return tf.conv2d(x, w as tf.Tensor4D, stride as 1 | 2, 'same');
}

function bn(vars: Vars, name: string, x: tf.Tensor4D): tf.Tensor4D {
  const c = x.shape[3];
  const scale = param(vars, `${name}.scale`, () => tf.ones([c])) as tf.Tensor1D;
  const shift = param(vars, `${name}.shift`, () => tf.zeros([c])) as tf.Tensor1D;
  return batchNormTrain(x, scale, shift, 1e-5).y;
}

const selectionKernels = new Map<string, tf.Tensor4D>();

/** Option A: subsample + zero channel padding, as the project's models do it (a constant strided 1x1 conv). */
function zeroPadShortcut(x: tf.Tensor4D, filters: number): tf.Tensor4D {
  const inC = x.shape[3];
  const key = `${inC}:${filters}`;
  let k = selectionKernels.get(key);
  if (!k) {
    const values = new Float32Array(inC * filters);
    const pad = Math.floor((filters - inC) / 2);
    for (let c = 0; c < inC; c++) values[c * filters + c + pad] = 1;
    k = tf.keep(tf.tensor4d(values, [1, 1, inC, filters]));
    selectionKernels.set(key, k);
  }
  return tf.conv2d(x, k, 2, 'valid');
}

function resnet(vars: Vars, x: tf.Tensor4D): tf.Tensor2D {
  const n = (depth - 2) / 6;
  let h = tf.relu(bn(vars, 'stem.bn', conv(vars, 'stem', x, 16, 3, 1)));
  [16, 32, 64].forEach((filters, stage) => {
    for (let b = 0; b < n; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const name = `s${stage}b${b}`;
      const f1 = tf.relu(bn(vars, `${name}.bn1`, conv(vars, `${name}.conv1`, h, filters, 3, stride)));
      const f = bn(vars, `${name}.bn2`, conv(vars, `${name}.conv2`, f1, filters, 3, 1));
      let s: tf.Tensor4D = h;
      if (stride !== 1) {
        s = shortcutOption === 'A' ? zeroPadShortcut(h, filters) : bn(vars, `${name}.sbn`, conv(vars, `${name}.sconv`, h, filters, 1, 2));
      }
      h = tf.relu(tf.add<tf.Tensor4D>(f, s));
    }
  });
  const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
  const w = param(vars, 'dense', () => tf.randomNormal([64, 10], 0, Math.sqrt(1 / 64))) as tf.Tensor2D;
  const b = param(vars, 'dense.bias', () => tf.zeros([10])) as tf.Tensor1D;
  return tf.add(tf.matMul(pooled, w), b);
}

function trainStep(vars: Vars, x: tf.Tensor4D, labels: tf.Tensor2D, lr: number): number {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, resnet(vars, x)) as tf.Scalar);
    for (const [name, g] of Object.entries(grads)) {
      const v = vars.get(name);
      if (v) v.assign(tf.sub(v, tf.mul(g, lr)));
    }
    return value.dataSync()[0];
  });
}

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

  const vars: Vars = new Map();
  const x = tf.randomNormal([batch, 32, 32, 3]) as tf.Tensor4D;
  const labels = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32') as tf.Tensor1D, 10) as tf.Tensor2D;
  resnet(vars, tf.zeros([1, 32, 32, 3])).dispose(); // create the variables outside the timed steps

  for (let i = 0; i < Number(opts.warmup); i++) trainStep(vars, x, labels, 0.01);
  const times: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < Number(opts.steps); i++) {
    const t0 = performance.now();
    trainStep(vars, x, labels, 0.01);
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
      trainStep(vars, x, labels, 0.01);
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
