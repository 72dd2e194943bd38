import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../../src/ops/gradients.js'; // TF.js op gradients
import { loadOnednnBackend, onednnInfo, setOnednnThreads } from '../../src/backend/onednn.js';
import { loadAddon } from '../../src/backend/onednn/addon.js';
import { PooledCpuBackend } from '../../src/backend/onednn/pooled-backend.js';
import { AdaptiveThreads, readProcStat, threadsFor } from '../../src/backend/onednn/thread-policy.js';
import { RELU_GRAD } from '../../src/ops/relu.js';
import { runCli, tinyRunArgs, withTempDir } from '../helpers/cli.js';
import { BATCH_NORM_TRAIN, batchNormTrain } from '../../src/ops/batch-norm.js';
import { BATCH_NORM_ACT, BATCH_NORM_ACT_INFERENCE, batchNormActInference, batchNormActTrain } from '../../src/ops/batch-norm-act.js';
import { MOVING_AVERAGES, MOVING_AVERAGES_MULTI, movingAverages, movingAveragesMany } from '../../src/ops/moving-average.js';
import { SGD_MOMENTUM, SGD_MOMENTUM_MULTI, sgdMomentumUpdate, sgdMomentumUpdates } from '../../src/ops/sgd-momentum.js';
import { randomValues as mulberry32, relativeError } from '../helpers/values.js';


// CI's npm ci builds the addon (fetching oneDNN when the machine has none), so there a missing addon is a
// failure; elsewhere the backend is optional.
const addon = loadAddon();
const skip = addon.ok || process.env.CI ? false : `onednn backend unavailable: ${addon.error}`;

/** Deterministic values in [-1, 1) (mulberry32), so both backends see identical inputs. */
function randomValues(count: number, seed: number, shift = 0): Float32Array {
  return Float32Array.from(mulberry32(count, seed), (v) => v + shift);
}

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const random = (shape: number[], seed: number, shift = 0): tf.Tensor => tf.tensor(randomValues(sizeOf(shape), seed, shift), shape);

/** Runs f on a backend and returns its outputs' values; everything f allocates is freed. */
async function on(backend: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  assert.ok(await tf.setBackend(backend), `cannot select ${backend}`);
  return tf.tidy(f).map((t) => {
    const values = t.dataSync() as Float32Array;
    t.dispose();
    return Float32Array.from(values);
  });
}

/** Same outputs on onednn as on cpu, within `tolerance` relative error each. */
async function agree(what: string, f: () => tf.Tensor[], tolerance = 1e-4): Promise<void> {
  const expected = await on('cpu', f);
  const actual = await on('onednn', f);
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => {
    const e = relativeError(a, expected[i]);
    assert.ok(e <= tolerance, `${what}, output ${i}: relative error ${e.toExponential(2)} > ${tolerance}`);
  });
}

interface ConvCase {
  batch: number;
  size: [number, number];
  inC: number;
  outC: number;
  kernel: 1 | 3;
  stride: 1 | 2;
  pad: 'same' | 'valid';
}

const convCases: ConvCase[] = [
  { batch: 2, size: [9, 9], inC: 3, outC: 5, kernel: 3, stride: 1, pad: 'same' },
  { batch: 3, size: [8, 8], inC: 4, outC: 6, kernel: 3, stride: 2, pad: 'same' }, // TF pads 0 top, 1 bottom
  { batch: 2, size: [7, 9], inC: 5, outC: 3, kernel: 3, stride: 2, pad: 'same' },
  { batch: 2, size: [6, 5], inC: 2, outC: 3, kernel: 3, stride: 1, pad: 'valid' },
  { batch: 2, size: [9, 8], inC: 3, outC: 4, kernel: 3, stride: 2, pad: 'valid' },
  { batch: 2, size: [5, 5], inC: 16, outC: 32, kernel: 1, stride: 1, pad: 'same' },
  { batch: 3, size: [8, 8], inC: 16, outC: 32, kernel: 1, stride: 2, pad: 'same' }, // option B projection
  { batch: 2, size: [7, 7], inC: 6, outC: 4, kernel: 1, stride: 2, pad: 'valid' },
  { batch: 2, size: [16, 16], inC: 16, outC: 32, kernel: 3, stride: 2, pad: 'same' },
  { batch: 2, size: [12, 12], inC: 32, outC: 32, kernel: 3, stride: 1, pad: 'same' },
  // The shapes whose implementation the addon picks by rule (native/onednn/src/conv.cc, chooseImpl):
  // Our own kernels (conv.cc conv8Applies: 3x3, stride 1, 'same', 8->8; Winograd F(4x4,3x3) in all three
  // directions, wino8.cc), odd sizes (partial 4x4 tiles on the right and bottom), a 1-wide and a 1-high map:
  { batch: 3, size: [32, 32], inC: 8, outC: 8, kernel: 3, stride: 1, pad: 'same' },
  { batch: 1, size: [5, 7], inC: 8, outC: 8, kernel: 3, stride: 1, pad: 'same' },
  { batch: 3, size: [7, 5], inC: 8, outC: 8, kernel: 3, stride: 1, pad: 'same' },
  { batch: 1, size: [19, 23], inC: 8, outC: 8, kernel: 3, stride: 1, pad: 'same' }, // a full block and every tail
  { batch: 2, size: [3, 1], inC: 8, outC: 8, kernel: 3, stride: 1, pad: 'same' },
  { batch: 2, size: [1, 3], inC: 8, outC: 8, kernel: 3, stride: 1, pad: 'same' },
  // ... and their neighbours that stay on oneDNN:
  { batch: 2, size: [9, 7], inC: 8, outC: 8, kernel: 3, stride: 1, pad: 'valid' }, // forward as an input gradient, padding 2
  { batch: 2, size: [8, 8], inC: 8, outC: 8, kernel: 3, stride: 2, pad: 'same' },
  { batch: 2, size: [7, 5], inC: 8, outC: 16, kernel: 3, stride: 1, pad: 'same' },
  { batch: 3, size: [5, 6], inC: 8, outC: 8, kernel: 1, stride: 1, pad: 'same' },
  { batch: 2, size: [32, 32], inC: 16, outC: 32, kernel: 3, stride: 1, pad: 'same' }, // brgconv forward
  // Our own kernels for 16->16 and 32->32 (conv.cc conv3x3Applies: 3x3, stride 1, 'same'; forward and input
  // gradient by Winograd F(2x2,3x3), wino3x3.cc), a full block and every tail of a row, odd sizes (a half 2x2 tile on
  // the right or bottom), a 1-wide and a 1-high map:
  { batch: 1, size: [16, 16], inC: 16, outC: 16, kernel: 3, stride: 1, pad: 'same' },
  { batch: 2, size: [32, 32], inC: 16, outC: 16, kernel: 3, stride: 1, pad: 'same' }, // brgconv's forward before
  { batch: 3, size: [8, 8], inC: 32, outC: 32, kernel: 3, stride: 1, pad: 'same' },
  { batch: 3, size: [5, 7], inC: 16, outC: 16, kernel: 3, stride: 1, pad: 'same' },
  { batch: 1, size: [5, 7], inC: 32, outC: 32, kernel: 3, stride: 1, pad: 'same' },
  { batch: 1, size: [19, 31], inC: 16, outC: 16, kernel: 3, stride: 1, pad: 'same' },
  { batch: 1, size: [9, 15], inC: 32, outC: 32, kernel: 3, stride: 1, pad: 'same' },
  { batch: 2, size: [3, 1], inC: 16, outC: 16, kernel: 3, stride: 1, pad: 'same' },
  { batch: 2, size: [1, 3], inC: 32, outC: 32, kernel: 3, stride: 1, pad: 'same' },
  // ... and their neighbours that stay on oneDNN:
  { batch: 2, size: [9, 7], inC: 16, outC: 16, kernel: 3, stride: 1, pad: 'valid' },
  { batch: 2, size: [8, 8], inC: 32, outC: 32, kernel: 3, stride: 2, pad: 'same' },
  { batch: 2, size: [7, 5], inC: 32, outC: 16, kernel: 3, stride: 1, pad: 'same' },
  { batch: 3, size: [5, 6], inC: 16, outC: 16, kernel: 1, stride: 1, pad: 'same' },
  { batch: 2, size: [6, 6], inC: 64, outC: 64, kernel: 3, stride: 1, pad: 'same' },
];

const describeCase = (c: ConvCase): string =>
  `${c.kernel}x${c.kernel} s${c.stride} ${c.pad} ${c.batch}x${c.size.join('x')}x${c.inC}->${c.outC}`;

describe('onednn thread policy', () => {
  /** A fake machine: `others` cores busy with other processes, this process using `own` cores. */
  function machine(cores: number) {
    const state = { at: 0, own: 0, busy: 0, total: 0, others: 0, ownCores: 0 };
    return {
      set(others: number, ownCores: number) {
        state.others = others;
        state.ownCores = ownCores;
      },
      advance(ms: number) {
        state.at += ms;
        state.own += state.ownCores * ms * 1000;
        state.busy += Math.min(cores, state.others + state.ownCores) * ms;
        state.total += cores * ms;
      },
      clock: {
        now: () => state.at,
        ownCpuMicros: () => state.own,
        system: () => ({ busy: state.busy, total: state.total }),
      },
    };
  }

  it('keeps every core on an idle machine and drops to the free ones after two samples of other load', () => {
    const m = machine(2);
    const applied: number[] = [];
    const switches: string[] = [];
    const policy = new AdaptiveThreads(2, 2, (n, previous) => {
      applied.push(n);
      switches.push(`${previous}->${n}`);
    }, 1000, m.clock);
    const sample = (others: number, own: number) => {
      m.set(others, own);
      m.advance(1000);
      policy.tick();
    };
    policy.tick();
    sample(0, 2);
    sample(0.1, 2);
    assert.deepEqual(applied, [], 'idle: stays at 2');
    sample(1, 1);
    assert.deepEqual(applied, [], 'one sample is not enough');
    sample(0, 2);
    sample(1, 1);
    sample(0.9, 1);
    assert.deepEqual(applied, [1]);
    assert.equal(policy.threads, 1);
    m.set(1, 1);
    m.advance(500);
    policy.tick(); // not due yet: no sample
    sample(0, 1);
    sample(0, 1);
    assert.deepEqual(applied, [1, 2], 'back to every core once the others stop');
    assert.deepEqual(switches, ['2->1', '1->2'], 'each switch reports the count it leaves');
  });

  it('never goes below one thread or above the maximum, and reads /proc/stat', () => {
    assert.equal(threadsFor(2, 5, 2), 1);
    assert.equal(threadsFor(2, -1, 2), 2);
    assert.equal(threadsFor(8, 2.4, 6), 6);
    assert.equal(threadsFor(8, 3.6, 8), 4);
    if (process.platform === 'linux') {
      const stat = readProcStat();
      assert.ok(stat && stat.total >= stat.busy && stat.busy > 0);
    }
  });
});

it('loads the oneDNN addon (required under CI)', { skip }, () => {
  assert.ok(addon.ok, addon.ok ? '' : addon.error);
});

it('a run on onednn records its thread count and whether it adapts in config.json', { skip }, async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, 'run');
    const r = await runCli(tinyRunArgs(out, 2).map((a) => (a === 'wasm' ? 'onednn' : a)), { env: { OMP_NUM_THREADS: '1' } });
    assert.equal(r.code, 0, r.stderr);
    const recorded = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { run: { backend: string; threads: unknown } };
    assert.equal(recorded.run.backend, 'onednn');
    assert.deepEqual(recorded.run.threads, { count: 1, adaptive: false }, 'OMP_NUM_THREADS fixes the count');
  });
});

describe('onednn backend', { skip }, () => {
  before(async () => {
    const loaded = await loadOnednnBackend();
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error);
    await tf.setBackend('cpu');
  });

  it('registers every cpu kernel and is idempotent', async () => {
    assert.ok((await loadOnednnBackend()).ok);
    assert.equal(tf.getBackend(), 'onednn');
    const onednn = new Set(tf.getKernelsForBackend('onednn').map((k) => k.kernelName));
    const missing = tf.getKernelsForBackend('cpu').filter((k) => !onednn.has(k.kernelName));
    assert.deepEqual(missing.map((k) => k.kernelName), []);
    assert.ok(onednn.has(BATCH_NORM_TRAIN) && onednn.has(RELU_GRAD));
  });

  it('changes its thread count and still computes the same convolution', async () => {
    const threads = onednnInfo()?.threads ?? 1;
    const conv = () => [tf.conv2d(random([2, 8, 8, 16], 3) as tf.Tensor4D, random([3, 3, 16, 16], 4) as tf.Tensor4D, 1, 'same')];
    const before = await on('onednn', conv);
    assert.ok(setOnednnThreads(1).ok);
    assert.equal(onednnInfo()?.threads, 1);
    assert.deepEqual(await on('onednn', conv), before);
    assert.ok(setOnednnThreads(threads).ok);
    assert.equal(setOnednnThreads(0).ok, false);
  });

  it('3x3 8->8 convolutions (our kernels) agree with cpu, repeat their bits and give the same forward and input gradient at 1 and 2 threads', async () => {
    const threads = onednnInfo()?.threads ?? 1;
    const wShape: [number, number, number, number] = [3, 3, 8, 8];
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
    const run = (xShape: [number, number, number, number]) => () => [
      tf.conv2d(random(xShape, 41) as tf.Tensor4D, random(wShape, 42) as tf.Tensor4D, 1, 'same'),
      tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: random(xShape, 43), filter: random(wShape, 42) }, { ...attrs, inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: random(xShape, 41), dy: random(xShape, 43) }, { ...attrs, filterShape: wShape } as unknown as tf.NamedAttrMap) as tf.Tensor,
    ];
    try {
      // Partial 4x4 Winograd tiles (11 = 2 x 4 + 3, 13 = 3 x 4 + 1); batch 5 and 3 split unevenly over 2 threads;
      // the lockstep workload's 32x32 maps.
      for (const xShape of [[5, 11, 13, 8], [3, 32, 32, 8]] as [number, number, number, number][]) {
        const byThreads: Float32Array[][] = [];
        for (const n of [1, 2]) {
          assert.ok(setOnednnThreads(n).ok);
          await agree(`3x3 8->8 ${xShape.join('x')} at ${n} threads`, run(xShape));
          const first = await on('onednn', run(xShape));
          assert.deepEqual(await on('onednn', run(xShape)), first);
          byThreads.push(first);
        }
        // The filter gradient adds per-thread slices of the batch in slice order, so only it may differ.
        assert.deepEqual(byThreads[1].slice(0, 2), byThreads[0].slice(0, 2), `8 channels ${xShape.join('x')}: 1 and 2 threads differ`);
      }
    } finally {
      setOnednnThreads(threads);
    }
  });

  it('3x3 16->16 and 32->32 convolutions (our kernels) agree with cpu, repeat their bits and give the same forward and input gradient at 1 and 2 threads', async () => {
    const threads = onednnInfo()?.threads ?? 1;
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
    const run = (xShape: [number, number, number, number]) => {
      const wShape: [number, number, number, number] = [3, 3, xShape[3], xShape[3]];
      return () => [
        tf.conv2d(random(xShape, 51) as tf.Tensor4D, random(wShape, 52) as tf.Tensor4D, 1, 'same'),
        tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: random(xShape, 53), filter: random(wShape, 52) }, { ...attrs, inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor,
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: random(xShape, 51), dy: random(xShape, 53) }, { ...attrs, filterShape: wShape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      ];
    };
    try {
      // Odd and even maps; batch 5 and 3 split unevenly over 2 threads; the lockstep workload's 16x16 and 8x8 maps.
      for (const xShape of [[5, 9, 11, 16], [5, 7, 6, 32], [3, 16, 16, 16], [3, 8, 8, 32]] as [number, number, number, number][]) {
        const byThreads: Float32Array[][] = [];
        for (const n of [1, 2]) {
          assert.ok(setOnednnThreads(n).ok);
          await agree(`3x3 ${xShape[3]}->${xShape[3]} at ${n} threads`, run(xShape));
          const first = await on('onednn', run(xShape));
          assert.deepEqual(await on('onednn', run(xShape)), first);
          byThreads.push(first);
        }
        // The filter gradient adds per-thread slices of the batch in slice order, so only it may differ.
        assert.deepEqual(byThreads[1].slice(0, 2), byThreads[0].slice(0, 2), `${xShape[3]} channels: 1 and 2 threads differ`);
      }
    } finally {
      setOnednnThreads(threads);
    }
  });

  it('rejects buffers that do not match the geometry instead of overrunning them', () => {
    assert.ok(addon.ok);
    assert.throws(() => addon.value.relu(new Float32Array(4), new Float32Array(3)), TypeError);
    assert.throws(
      () => addon.value.convForward(new Float32Array(10), new Float32Array(9), new Float32Array(9),
        1, 3, 3, 1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
      /elements, expected 9/,
    );
  });

  for (const c of convCases) {
    it(`conv2d forward, backprop-input and backprop-filter: ${describeCase(c)}`, async () => {
      const xShape: [number, number, number, number] = [c.batch, ...c.size, c.inC];
      const wShape: [number, number, number, number] = [c.kernel, c.kernel, c.inC, c.outC];
      const seed = c.size[0] * 100 + c.inC * 10 + c.stride;
      await agree(`${describeCase(c)} forward`, () => [
        tf.conv2d(random(xShape, seed) as tf.Tensor4D, random(wShape, seed + 1) as tf.Tensor4D, c.stride, c.pad),
      ]);
      const yShape = tf.tidy(() => tf.conv2d(tf.zeros(xShape) as tf.Tensor4D, tf.zeros(wShape) as tf.Tensor4D, c.stride, c.pad).shape);
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
      await agree(`${describeCase(c)} backprop input`, () => [
        tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: random(yShape, seed + 2), filter: random(wShape, seed + 1) }, { ...attrs, inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      ]);
      await agree(`${describeCase(c)} backprop filter`, () => [
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: random(xShape, seed), dy: random(yShape, seed + 2) }, { ...attrs, filterShape: wShape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      ]);
    });
  }

  it('conv2d: dilated forward natively, NCHW through the cpu fallback', async () => {
    await agree('dilation 2', () => [
      tf.conv2d(random([2, 9, 9, 3], 5) as tf.Tensor4D, random([3, 3, 3, 4], 6) as tf.Tensor4D, 1, 'same', 'NHWC', 2),
    ]);
    await agree('NCHW', () => [
      tf.conv2d(random([2, 3, 6, 6], 7) as tf.Tensor4D, random([3, 3, 3, 4], 8) as tf.Tensor4D, 1, 'same', 'NCHW'),
    ]);
  });

  it('batch norm training forward and backward match the composite on cpu', async () => {
    const shape = [3, 5, 4, 6];
    for (const epsilon of [1e-5, 1e-3]) {
      await agree(`batch norm eps ${epsilon}`, () => {
        const x = random(shape, 11, 0.7) as tf.Tensor4D;
        const scale = random([6], 12, 1.5) as tf.Tensor1D;
        const offset = random([6], 13) as tf.Tensor1D;
        const upstream = random(shape, 14);
        const { y, mean, variance } = batchNormTrain(x, scale, offset, epsilon);
        const grads = tf.grads((a, s, o) => tf.sum(tf.mul(batchNormTrain(a as tf.Tensor4D, s as tf.Tensor1D, o as tf.Tensor1D, epsilon).y, upstream)));
        return [y, mean, variance, ...grads([x, scale, offset])];
      });
    }
  });

  /** y, mean, variance of the fused op, and the gradients of Σ y·upstream wrt x, scale, offset (and the residual). */
  const fusedBatchNorm = (shape: number[], o: { relu: boolean; residual: boolean }, seed: number) => (): tf.Tensor[] => {
    const c = shape[3];
    const x = random(shape, seed, 0.7) as tf.Tensor4D;
    const scale = random([c], seed + 1, 1.5) as tf.Tensor1D;
    const offset = random([c], seed + 2) as tf.Tensor1D;
    const residual = random(shape, seed + 3) as tf.Tensor4D;
    const upstream = random(shape, seed + 4);
    const run = (a: tf.Tensor, s: tf.Tensor, f: tf.Tensor, r: tf.Tensor) =>
      batchNormActTrain(a as tf.Tensor4D, s as tf.Tensor1D, f as tf.Tensor1D, 1e-5, { relu: o.relu, residual: o.residual ? (r as tf.Tensor4D) : undefined });
    const { y, mean, variance } = run(x, scale, offset, residual);
    const inputs = o.residual ? [x, scale, offset, residual] : [x, scale, offset];
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(run(args[0], args[1], args[2], args[3] ?? residual).y, upstream)));
    return [y, mean, variance, ...grads(inputs)];
  };
  const fusedCases = [
    { shape: [3, 5, 4, 6], relu: true, residual: false }, // channels without a specialised loop
    { shape: [4, 17, 9, 16], relu: true, residual: true }, // several row blocks
    { shape: [2, 9, 7, 8], relu: false, residual: true },
    { shape: [3, 6, 5, 32], relu: false, residual: false },
    { shape: [8, 32, 16, 16], relu: true, residual: true }, // above the parallel threshold
    { shape: [2, 4, 4, 64], relu: true, residual: false },
    { shape: [5, 5, 5, 8], relu: false, residual: false }, // 125 rows: 8-row groups and a 5-row tail; dy read twice
    { shape: [3, 7, 5, 16], relu: true, residual: false }, // a 1-row tail after 4-row groups
    { shape: [32, 32, 32, 8], relu: true, residual: true }, // the fig6 width-8 stage: 128 full row blocks
  ];

  for (const { shape, ...o } of fusedCases) {
    it(`fused batch norm${o.residual ? ' + residual' : ''}${o.relu ? ' + ReLU' : ''} on [${shape.join(',')}]: forward and gradients match the composite on cpu`, async () => {
      assert.ok(tf.getKernel(BATCH_NORM_ACT, 'onednn'), 'onednn registers the fused kernel');
      await agree(`fused batch norm [${shape.join(',')}]`, fusedBatchNorm(shape, o, 40));
    });
  }

  it('batch norm kernels give the same bits on 1 and 2 threads', async () => {
    // 16 channels, and 8 (the fig6 width: 8 float partial sums per channel within each block).
    const shapes = [[16, 32, 16, 16], [8, 32, 32, 8]];
    const threads = onednnInfo()?.threads ?? 1;
    try {
      for (const shape of shapes) {
        // With a residual the masked gradient is stored into dResidual, without into dx (then overwritten).
        for (const residual of [true, false]) {
          const run = () => on('onednn', fusedBatchNorm(shape, { relu: true, residual }, 50));
          assert.ok(setOnednnThreads(1).ok);
          const one = await run();
          assert.ok(setOnednnThreads(2).ok);
          const two = await run();
          one.forEach((values, i) => assert.deepEqual(two[i], values, `[${shape.join(',')}] residual ${residual}: output ${i} differs between 1 and 2 threads`));
        }
      }
    } finally {
      setOnednnThreads(threads);
    }
  });

  /**
   * x whose every third row sits exactly at its channel's mean (levels m - 0.25, m, m + 0.25, m = k / 1024: all
   * sums exact), offset 0: there BN's output before the ReLU is 0 or an ulp either side, decided by the rounding
   * of the kernel's per-channel coefficients. Returns y, the ReLU-BN's gradients, and the plain BN's gradients
   * for the upstream gradient masked by y > 0 (what the ReLU's gradient is by definition).
   */
  const reluAtZero = (shape: number[], seed: number) => (): tf.Tensor[] => {
    const c = shape[3];
    const rows = sizeOf(shape) / c;
    const m = Array.from(randomValues(c, seed), (v) => Math.round(v * 1024) / 1024);
    const x = tf.tensor4d(Float32Array.from({ length: rows * c }, (_, i) => m[i % c] + 0.25 * ((Math.floor(i / c) % 3) - 1)), shape as [number, number, number, number]);
    const scale = random([c], seed + 1, 1.5) as tf.Tensor1D;
    const offset = tf.zeros([c]) as tf.Tensor1D;
    const upstream = random(shape, seed + 2);
    const bn = (relu: boolean, dy: tf.Tensor) => tf.grads((a, s, o) => tf.sum(tf.mul(batchNormActTrain(a as tf.Tensor4D, s as tf.Tensor1D, o as tf.Tensor1D, 1e-5, { relu }).y, dy)))([x, scale, offset]);
    const { y } = batchNormActTrain(x, scale, offset, 1e-5, { relu: true });
    return [y, ...bn(true, upstream), ...bn(false, tf.mul(upstream, tf.cast(tf.greater(y, 0), 'float32')))];
  };

  it('fused batch norm + ReLU without a residual: its gradient masks exactly where y > 0, also where BN gives 0 +- an ulp', async () => {
    // 8 and 16 channels take the flat 64-float loops (16 also above the parallel threshold), 6 the per-row ones.
    const shapes = [[3, 32, 32, 8], [12, 16, 16, 16], [6, 8, 8, 16], [3, 5, 4, 6]];
    const threads = onednnInfo()?.threads ?? 1;
    const signs = { zero: 0, positive: 0 };
    try {
      for (const shape of shapes) {
        const c = shape[3];
        assert.ok(setOnednnThreads(1).ok);
        const one = await on('onednn', reluAtZero(shape, 90 + c));
        assert.ok(setOnednnThreads(2).ok);
        const two = await on('onednn', reluAtZero(shape, 90 + c));
        one.forEach((values, i) => assert.deepEqual(two[i], values, `[${shape.join(',')}] output ${i} differs between 1 and 2 threads`));
        const [y, ...grads] = one;
        for (let j = 0; j < c; j++) signs[y[c + j] > 0 ? 'positive' : 'zero'] += 1; // row 1: at the mean
        ['dx', 'dScale', 'dOffset'].forEach((name, i) => assert.deepEqual(grads[i], grads[i + 3], `[${shape.join(',')}] ${name}: the ReLU's mask is not y > 0`));
      }
    } finally {
      setOnednnThreads(threads);
    }
    assert.ok(signs.zero > 0 && signs.positive > 0, `the at-mean elements must land on both sides of the ReLU: ${JSON.stringify(signs)}`);
  });

  it('SGD with momentum and the moving averages: one kernel each, the composite on cpu to the bit', async () => {
    assert.ok(tf.getKernel(SGD_MOMENTUM, 'onednn') && tf.getKernel(MOVING_AVERAGES, 'onednn'));
    for (const shape of [[3, 3, 16, 32], [70000], [7]]) {
      const update = () => {
        const [w, v, g] = [random(shape, 61), random(shape, 62), random(shape, 63)];
        const decayed = sgdMomentumUpdate(w, v, g, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
        const plain = sgdMomentumUpdate(w, v, g, { lr: 0.037, momentum: 0.5, weightDecay: 0 });
        const stats = movingAverages(w, tf.abs(v), g, tf.abs(w), { momentum: 0.1, correction: 131072 / 131071 });
        return [decayed.w, decayed.v, plain.w, plain.v, stats.mean, stats.variance];
      };
      const expected = await on('cpu', update);
      const actual = await on('onednn', update);
      actual.forEach((a, i) => assert.deepEqual(a, expected[i], `[${shape.join(',')}] output ${i}`));
    }
  });

  it('many parameters in one SGD and one moving-averages kernel call: the composite on cpu to the bit', async () => {
    assert.ok(tf.getKernel(SGD_MOMENTUM_MULTI, 'onednn') && tf.getKernel(MOVING_AVERAGES_MULTI, 'onednn'));
    assert.equal(tf.getKernel(SGD_MOMENTUM_MULTI, 'cpu'), undefined, 'cpu must run the per-parameter composite');
    const shapes = [[3, 3, 8, 8], [8], [70000], [7], [3, 3, 3, 8]];
    const update = () => {
      const params = shapes.map((shape, i) => ({ w: random(shape, 71 + i), v: random(shape, 81 + i), g: random(shape, 91 + i) }));
      const sgd = sgdMomentumUpdates(params.map((p, i) => ({ ...p, weightDecay: i % 2 === 0 ? 1e-4 : 0 })), 0.1, 0.9);
      const layers = params.map((p, i) => ({ movingMean: p.w, movingVariance: tf.abs(p.v), mean: p.g, variance: tf.abs(p.w), correction: (i + 2) / (i + 1) }));
      const stats = movingAveragesMany(layers, 0.1);
      return [...sgd.flatMap((u) => [u.w, u.v]), ...stats.flatMap((s) => [s.mean, s.variance])];
    };
    const expected = await on('cpu', update);
    const actual = await on('onednn', update);
    assert.equal(actual.length, 4 * shapes.length);
    actual.forEach((a, i) => assert.deepEqual(a, expected[i], `output ${i}`));
  });

  it('evaluation batch norm (moving statistics) matches cpu, with or without scale and offset', async () => {
    await agree('inference batch norm', () => {
      const x = random([3, 5, 4, 6], 15, 0.5);
      const mean = random([6], 16) as tf.Tensor1D;
      const variance = tf.abs(random([6], 17, 1)) as tf.Tensor1D;
      const scale = random([6], 18, 1) as tf.Tensor1D;
      const offset = random([6], 19) as tf.Tensor1D;
      return [
        tf.batchNorm(x, mean, variance, offset, scale, 1e-5),
        tf.batchNorm(x, mean, variance, undefined, undefined, 1e-3),
        tf.batchNorm(random([7, 6], 20), mean, variance, offset, tf.fill([6], 2) as tf.Tensor1D, 1e-5),
      ];
    }, 1e-5);
  });

  it('evaluation batch norm + residual + ReLU: one fused kernel, the bits of the separate ops, cpu within 1e-5', async () => {
    const cases = (): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D] => [
      random([3, 5, 4, 6], 25, 0.5) as tf.Tensor4D,
      random([6], 26) as tf.Tensor1D,
      tf.abs(random([6], 27, 1)) as tf.Tensor1D,
      random([6], 28, 1) as tf.Tensor1D,
      random([6], 29) as tf.Tensor1D,
      random([3, 5, 4, 6], 30) as tf.Tensor4D,
    ];
    const fused = (): tf.Tensor[] => {
      const [x, m, v, s, o, r] = cases();
      return [
        batchNormActInference(x, m, v, s, o, 1e-5, { relu: true, residual: r }),
        batchNormActInference(x, m, v, s, o, 1e-5, { relu: true }),
        batchNormActInference(x, m, v, s, o, 1e-5, { relu: false, residual: r }),
      ];
    };
    const separate = (): tf.Tensor[] => {
      const [x, m, v, s, o, r] = cases();
      const y = tf.batchNorm4d(x, m, v, o, s, 1e-5);
      return [tf.relu(tf.add(y, r)), tf.relu(y), tf.add(y, r)];
    };
    await agree('inference batch norm + residual + ReLU', fused, 1e-5);
    const fusedBits = await on('onednn', fused);
    const separateBits = await on('onednn', separate);
    fusedBits.forEach((a, i) => assert.deepEqual(a, separateBits[i], `output ${i}`));
    await tf.setBackend('onednn');
    const kernels = (await tf.profile(() => tf.tidy(() => fused()))).kernels.map((k) => k.name);
    assert.deepEqual(kernels.filter((k) => k !== 'Abs'), Array(3).fill(BATCH_NORM_ACT_INFERENCE), 'one kernel call each');
  });

  it('batch norm training leaves its statistics to the caller scope (no leak)', async () => {
    await tf.setBackend('onednn');
    const x = random([2, 3, 3, 4], 21) as tf.Tensor4D;
    const scale = tf.ones([4]) as tf.Tensor1D;
    const offset = tf.zeros([4]) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    const kept = tf.tidy(() => {
      const { y, mean } = batchNormTrain(x, scale, offset, 1e-5);
      y.dataSync();
      return tf.keep(mean);
    });
    assert.equal(tf.memory().numTensors, before + 1, 'only the kept mean survives the tidy');
    assert.equal(kept.shape[0], 4);
    tf.dispose([kept, x, scale, offset]);
  });

  it('element-wise kernels: relu and its gradient, step, addN', async () => {
    const shape = [2, 70, 33, 16]; // above the addon's parallel threshold
    await agree('elementwise', () => {
      const a = random(shape, 31);
      const b = random(shape, 32);
      const c = random(shape, 33);
      const [reluGrad] = tf.grads((t) => tf.relu(t))([a], b);
      return [
        tf.relu(a), reluGrad, tf.step(a), tf.step(a, 0.25), tf.addN([a, b, c]), tf.addN([a]),
        tf.relu(tf.tensor([-1, 0, 2, NaN])), tf.step(tf.tensor([-1, 0, 2, NaN])),
      ];
    }, 0);
  });

  it('binary arithmetic with broadcasting: same shape, scalar, bias, [N,1,1,C] against [N,H,W,C], outer products', async () => {
    const cases: [number[], number[]][] = [
      [[2, 70, 33, 16], [2, 70, 33, 16]],
      [[2, 70, 33, 16], []],
      [[], [3, 5]],
      [[4, 10], [10]],
      [[2, 1, 1, 16], [2, 7, 5, 16]],
      [[2, 7, 5, 16], [2, 1, 1, 16]],
      [[3, 1], [1, 4]],
      [[5, 1, 3], [4, 1]],
      [[1, 1], [1]],
    ];
    await agree('binary', () =>
      cases.flatMap(([aShape, bShape], i) => {
        const a = random(aShape, 70 + i);
        const b = random(bShape, 80 + i, 2.5); // away from zero for the divisions
        return [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b), tf.sub(b, a)];
      }), 1e-6);
  });

  it('sum and mean over contiguous axes, and their fallback for the rest', async () => {
    await agree('reductions', () => {
      const x = random([6, 8, 7, 16], 90, 0.3);
      return [
        tf.mean(x, [1, 2]), tf.sum(x, [1, 2]), tf.mean(x, [1, 2], true), tf.sum(x), tf.mean(x, 0), tf.sum(x, -1),
        tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 2]), tf.sum(tf.reshape(x, [6, 8 * 7 * 16]), 1),
      ];
    }, 1e-5);
  });

  it('recycles output buffers, but never one whose values were read out or that a live slice still views', async () => {
    await tf.setBackend('onednn');
    const backend = tf.backend() as PooledCpuBackend;
    assert.ok(backend instanceof PooledCpuBackend);
    const shape = [4, 64, 64, 4]; // above the pooling threshold
    const x = random(shape, 101);
    const expected = Float32Array.from(tf.tidy(() => tf.relu(x)).dataSync());

    // Other tests may have left buffers of this size in the pool: count from after the first one is back.
    tf.relu(x).dispose();
    const pooled = backend.pooledBytes();
    const counts = backend.allocationStats();
    const again = tf.relu(x);
    assert.equal(backend.pooledBytes(), pooled - expected.byteLength, 'the next output of that size comes out of the pool');
    assert.deepEqual(backend.allocationStats(), { ...counts, reused: counts.reused + 1 });
    again.dispose();
    assert.equal(backend.pooledBytes(), pooled, 'a disposed output goes back to the pool');

    // Each would reuse a wrongly pooled buffer and overwrite it with other values.
    const overwrite = () => tf.tidy(() => [1, 2, 3].forEach((i) => tf.relu(tf.mul(x, -i)).dataSync()));
    const read = tf.relu(x);
    const values = read.dataSync();
    read.dispose();
    overwrite();
    assert.deepEqual(values, expected, 'values handed out by dataSync stay intact');
    const slice = tf.tidy(() => {
      const whole = tf.relu(x);
      return tf.slice(whole, [1], [2]); // continuous: a subarray view of whole's buffer
    });
    overwrite();
    assert.deepEqual(slice.dataSync(), expected.subarray(expected.length / 4, (3 * expected.length) / 4));
    tf.dispose([slice, x]);
  });

  it('every native kernel writes all of its output: training steps on NaN-poisoned reused buffers give the same bits', async () => {
    await tf.setBackend('onednn');
    const backend = tf.backend() as PooledCpuBackend;
    const { benchNet, randomBatch } = await import('../../src/bench/measure.js');
    const { trainStep } = await import('../../src/train/step.js');
    // Width 8 on 32x32 images: the 8-channel kernels, Winograd at 16 and 32 channels, the stride-2 and 1x1
    // convolutions of option B, batch norm with and without residual, the loss, SGD and the moving averages.
    const weightsAfterSteps = (poison: boolean): Float32Array[] => {
      const b = benchNet({ variant: 'residual', depth: 8, width: 8, shortcut: 'B' }, 3);
      const batch = randomBatch(4, 5);
      try {
        backend.poisonReused(poison);
        const reusedBefore = backend.allocationStats().reused;
        for (let i = 0; i < 2; i++) trainStep(b.net, b.sgd, batch, 0.1);
        if (poison) assert.ok(backend.allocationStats().reused - reusedBefore > 100, 'the steps ran on reused buffers');
        return b.net.params.trainable().map((p) => Float32Array.from(p.variable.dataSync()));
      } finally {
        backend.poisonReused(false);
        b.dispose();
        tf.dispose([batch.x, batch.y]);
      }
    };
    const threads = onednnInfo()?.threads ?? 1;
    try {
      // 1 and 2 threads take different paths (2 threads sum partial filter gradients in scratch buffers).
      for (const n of [1, 2]) {
        assert.ok(setOnednnThreads(n).ok);
        const clean = weightsAfterSteps(false);
        const poisoned = weightsAfterSteps(true);
        assert.equal(poisoned.length, clean.length);
        clean.forEach((w, i) => {
          assert.ok(w.every(Number.isFinite), `${n} thread(s), parameter ${i} is finite`);
          assert.deepEqual(poisoned[i], w, `${n} thread(s), parameter ${i}: same bits`);
        });
      }
    } finally {
      setOnednnThreads(threads);
    }
  });

  it('a conv-BN-ReLU-conv(s2)-BN + projection shortcut, ReLU, mean, dense, softmax CE step: same gradients', async () => {
    await agree('mini-net gradients', () => {
      const vars = {
        w1: tf.variable(random([3, 3, 3, 8], 41, 0) as tf.Tensor4D),
        g1: tf.variable(random([8], 42, 1.2) as tf.Tensor1D),
        b1: tf.variable(random([8], 43) as tf.Tensor1D),
        w2: tf.variable(random([3, 3, 8, 16], 44) as tf.Tensor4D),
        g2: tf.variable(random([16], 45, 1.2) as tf.Tensor1D),
        b2: tf.variable(random([16], 46) as tf.Tensor1D),
        ws: tf.variable(random([1, 1, 8, 16], 47) as tf.Tensor4D),
        wd: tf.variable(random([16, 10], 48) as tf.Tensor2D),
        bd: tf.variable(random([10], 49) as tf.Tensor1D),
      };
      const x = random([4, 9, 9, 3], 50) as tf.Tensor4D;
      const labels = tf.oneHot(tf.tensor1d([1, 3, 3, 7], 'int32'), 10);
      const { value, grads } = tf.variableGrads(() => {
        const h = tf.relu(batchNormTrain(tf.conv2d(x, vars.w1, 1, 'same'), vars.g1, vars.b1, 1e-5).y);
        const f = batchNormTrain(tf.conv2d(h, vars.w2, 2, 'same'), vars.g2, vars.b2, 1e-5).y;
        const out = tf.relu(tf.add(f, tf.conv2d(h, vars.ws, 2, 'same')));
        const logits = tf.add(tf.matMul(tf.mean(out, [1, 2]) as tf.Tensor2D, vars.wd), vars.bd);
        return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
      });
      const names = Object.keys(vars) as (keyof typeof vars)[];
      const result = [value, ...names.map((n) => grads[vars[n].name])];
      Object.values(vars).forEach((v) => v.dispose());
      return result;
    }, 1e-3);
  });

  it('a ResNet-8 training step (src/models, option A and B shortcuts): same gradients as cpu', async () => {
    const models = await import('../../src/models/index.js');
    for (const shortcut of ['A', 'B'] as const) {
      await agree(`resnet-8 ${shortcut}`, () => {
        const net = models.buildNetwork({ variant: 'residual', depth: 8, width: 16, shortcut }, 7);
        // The net ends in a global mean, so 8x8 inputs keep every layer (stage 3 at 2x2) while the cpu reference stays quick.
        const x = random([2, 8, 8, 3], 60) as tf.Tensor4D;
        const labels = tf.oneHot(tf.tensor1d([1, 9], 'int32'), 10);
        const trainable = net.params.trainable();
        const { value, grads } = tf.variableGrads(() => {
          const { logits, batchStats } = net.forward(x, 'train');
          tf.dispose(batchStats.flatMap((s) => [s.mean, s.variance]));
          return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
        }, trainable.map((p) => p.variable));
        const result = [value, ...trainable.map((p) => grads[p.variable.name])];
        net.params.dispose();
        return result;
      }, 1e-3);
    }
  });
});
