import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../../src/ops/gradients.js';
import { loadWasmBackend, registerWasmTrainingKernels } from '../../src/backend/wasm.js';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, batchNormTrain } from '../../src/ops/batch-norm.js';
import { randomValues, relativeError as maxRelativeError } from '../helpers/values.js';

/** The max-norm relative error, refusing an all-zero reference: such a case would test nothing. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  assert.ok(expected.some((v) => v !== 0), 'reference is all zeros: the case tests nothing');
  return maxRelativeError(actual, expected);
}

type Pad = 'same' | 'valid';

/** Runs `compute` on `backend` with tensors it builds there, returning plain values. */
async function on(backend: 'cpu' | 'wasm', compute: () => tf.Tensor): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  const out = compute();
  const values = (await out.data()) as Float32Array;
  const shape = out.shape;
  out.dispose();
  return { shape, values };
}

interface ConvCase {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  pad: Pad;
}

const CASES: ConvCase[] = [
  { n: 2, h: 8, w: 8, cin: 3, cout: 5, k: 3, stride: 1, pad: 'same' },
  { n: 2, h: 7, w: 7, cin: 3, cout: 5, k: 3, stride: 1, pad: 'same' },
  { n: 2, h: 8, w: 8, cin: 3, cout: 5, k: 3, stride: 2, pad: 'same' },
  { n: 3, h: 7, w: 9, cin: 4, cout: 6, k: 3, stride: 2, pad: 'same' },
  { n: 2, h: 8, w: 8, cin: 4, cout: 6, k: 3, stride: 1, pad: 'valid' },
  { n: 2, h: 8, w: 8, cin: 4, cout: 6, k: 3, stride: 2, pad: 'valid' },
  { n: 2, h: 9, w: 7, cin: 4, cout: 6, k: 3, stride: 2, pad: 'valid' },
  { n: 2, h: 6, w: 6, cin: 3, cout: 4, k: 1, stride: 1, pad: 'same' },
  { n: 2, h: 5, w: 5, cin: 3, cout: 4, k: 1, stride: 1, pad: 'valid' },
  { n: 2, h: 8, w: 8, cin: 4, cout: 6, k: 1, stride: 2, pad: 'same' },
  { n: 2, h: 7, w: 7, cin: 4, cout: 6, k: 1, stride: 2, pad: 'same' },
  { n: 2, h: 8, w: 8, cin: 4, cout: 6, k: 1, stride: 2, pad: 'valid' },
  { n: 2, h: 7, w: 7, cin: 4, cout: 6, k: 1, stride: 2, pad: 'valid' },
];

function outSize(size: number, k: number, stride: number, pad: Pad): number {
  return pad === 'same' ? Math.ceil(size / stride) : Math.ceil((size - k + 1) / stride);
}

const label = (c: ConvCase): string =>
  `${c.k}x${c.k} s${c.stride} ${c.pad}, x ${c.n}x${c.h}x${c.w}x${c.cin} → ${c.cout}`;

describe('wasm training kernels match cpu', () => {
  before(async () => {
    const loaded = await loadWasmBackend();
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error);
  });

  it('loading is idempotent and selects wasm', async () => {
    await tf.setBackend('cpu');
    const again = await loadWasmBackend();
    assert.ok(again.ok);
    assert.equal(tf.getBackend(), 'wasm');
    registerWasmTrainingKernels();
    for (const kernel of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD]) {
      assert.ok(tf.getKernel(kernel, 'wasm'), kernel);
    }
  });

  for (const c of CASES) {
    const xShape: [number, number, number, number] = [c.n, c.h, c.w, c.cin];
    const filterShape: [number, number, number, number] = [c.k, c.k, c.cin, c.cout];
    const dyShape: [number, number, number, number] = [
      c.n,
      outSize(c.h, c.k, c.stride, c.pad),
      outSize(c.w, c.k, c.stride, c.pad),
      c.cout,
    ];
    const xValues = randomValues(xShape.reduce((a, b) => a * b), 1);
    const wValues = randomValues(filterShape.reduce((a, b) => a * b), 2);
    const dyValues = randomValues(dyShape.reduce((a, b) => a * b), 3);
    const attrs: tf.NamedAttrMap = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC' };

    it(`Conv2DBackpropFilter ${label(c)}`, async () => {
      const run = (): tf.Tensor =>
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: tf.tensor4d(xValues, xShape), dy: tf.tensor4d(dyValues, dyShape) },
          { ...attrs, filterShape },
        ) as tf.Tensor;
      const expected = await on('cpu', run);
      const actual = await on('wasm', run);
      assert.deepEqual(actual.shape, filterShape);
      assert.ok(relativeError(actual.values, expected.values) <= 1e-4);
    });

    it(`Conv2DBackpropInput ${label(c)}`, async () => {
      const run = (): tf.Tensor =>
        tf.engine().runKernel(
          'Conv2DBackpropInput',
          { dy: tf.tensor4d(dyValues, dyShape), filter: tf.tensor4d(wValues, filterShape) },
          { ...attrs, inputShape: xShape },
        ) as tf.Tensor;
      const expected = await on('cpu', run);
      const actual = await on('wasm', run);
      assert.deepEqual(actual.shape, xShape);
      assert.ok(relativeError(actual.values, expected.values) <= 1e-4);
    });
  }

  for (const shape of [
    [2, 5, 3, 4],
    [3, 4, 4, 7],
  ] as [number, number, number, number][]) {
    const count = shape.reduce((a, b) => a * b);
    // An offset mean and a spread scale, so a one-pass variance or a mixed-up channel would show.
    const xValues = randomValues(count, 20).map((v, i) => 3 + v * (1 + (i % shape[3])));
    const dyValues = randomValues(count, 21);
    const gammaValues = randomValues(shape[3], 22).map((v) => 1 + 0.5 * v);
    const betaValues = randomValues(shape[3], 23);
    const epsilon = 1e-3;
    const composite = (): tf.Tensor[] => {
      const x = tf.tensor4d(xValues, shape);
      const dy = tf.tensor4d(dyValues, shape);
      const gamma = tf.tensor1d(gammaValues);
      const beta = tf.tensor1d(betaValues);
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const y = tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, epsilon);
      const [dx, dGamma, dBeta] = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean: m, variance: v } = tf.moments(a, [0, 1, 2]);
        return tf.sum(tf.mul(tf.batchNorm4d(a as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D, b as tf.Tensor1D, g as tf.Tensor1D, epsilon), dy));
      })([x, gamma, beta]);
      return [y, mean, variance, dx!, dGamma!, dBeta!];
    };
    const names = ['y', 'mean', 'variance', 'dx', 'dScale', 'dOffset'];

    it(`${BATCH_NORM_TRAIN} and its gradient on [${shape.join(', ')}]`, async () => {
      await tf.setBackend('cpu');
      const expected = await Promise.all(composite().map(async (t) => (await t.data()) as Float32Array));
      await tf.setBackend('wasm');
      const x = tf.tensor4d(xValues, shape);
      const scale = tf.tensor1d(gammaValues);
      const offset = tf.tensor1d(betaValues);
      const forward = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, scale, offset }, { epsilon }) as tf.Tensor[];
      const [, mean, variance] = forward;
      const backward = tf.engine().runKernel(
        BATCH_NORM_TRAIN_GRAD,
        { dy: tf.tensor4d(dyValues, shape), x, scale, mean: mean!, variance: variance! },
        { epsilon },
      ) as tf.Tensor[];
      const actual = await Promise.all([...forward, ...backward].map(async (t) => (await t.data()) as Float32Array));
      names.forEach((name, i) => {
        const error = relativeError(actual[i]!, expected[i]!);
        assert.ok(error <= 1e-4, `${name}: relative error ${error}`);
      });
    });
  }

  it('the kernels free every intermediate they allocate', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(randomValues(2 * 7 * 7 * 3, 4), [2, 7, 7, 3]);
    const w = tf.tensor4d(randomValues(3 * 3 * 3 * 5, 5), [3, 3, 3, 5]);
    const gradOf = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')));
    const step = (): void => {
      tf.tidy(() => {
        gradOf([x, w]);
      });
    };
    step();
    const before = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) step();
    assert.equal(tf.engine().backend.numDataIds(), before);
    x.dispose();
    w.dispose();
  });

  it('rejects a config it was not written for with a clear error', async () => {
    await tf.setBackend('wasm');
    assert.throws(
      () =>
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: tf.zeros([1, 4, 4, 2]), dy: tf.zeros([1, 4, 4, 2]) },
          { strides: [1, 1], pad: [[0, 0], [1, 1], [1, 1], [0, 0]], dataFormat: 'NHWC', filterShape: [3, 3, 2, 2] },
        ),
      /supports NHWC with 'same'\/'valid' padding only/,
    );
  });

  it('a mini conv net training step has the same gradients as on cpu', async () => {
    // conv 3x3 → batch norm → relu → conv 3x3 stride 2 → global mean → dense → softmax cross-entropy
    const n = 4;
    const shapes = {
      x: [n, 8, 8, 3],
      w1: [3, 3, 3, 6],
      gamma: [6],
      beta: [6],
      w2: [3, 3, 6, 8],
      dense: [8, 5],
      bias: [5],
    } as const;
    const init = Object.fromEntries(
      Object.entries(shapes).map(([name, shape], i) => [name, randomValues(shape.reduce((a: number, b: number) => a * b, 1), 10 + i)]),
    ) as Record<keyof typeof shapes, number[]>;
    init.gamma = init.gamma.map((v) => 1 + 0.5 * v);
    const labels = [0, 3, 1, 4];
    const names = ['w1', 'gamma', 'beta', 'w2', 'dense', 'bias'] as const;

    const gradientsOn = async (backend: 'cpu' | 'wasm'): Promise<Map<string, Float32Array>> => {
      await tf.setBackend(backend);
      const vars = Object.fromEntries(
        names.map((name) => [name, tf.variable(tf.tensor(init[name], [...shapes[name]]), true, `${backend}-${name}`)]),
      ) as Record<(typeof names)[number], tf.Variable>;
      const x = tf.tensor4d(init.x, [...shapes.x]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 5);
      const { value, grads } = tf.variableGrads(() => {
        const h1 = tf.conv2d(x, vars.w1 as tf.Tensor4D, 1, 'same');
        const bn = batchNormTrain(h1, vars.gamma as tf.Tensor1D, vars.beta as tf.Tensor1D, 1e-5);
        const h2 = tf.conv2d(tf.relu(bn.y), vars.w2 as tf.Tensor4D, 2, 'same');
        const pooled = tf.mean(h2, [1, 2]);
        const logits = tf.add(tf.matMul(pooled, vars.dense), vars.bias);
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      }, Object.values(vars));
      const out = new Map<string, Float32Array>();
      out.set('loss', (await value.data()) as Float32Array);
      for (const name of names) {
        out.set(name, (await grads[`${backend}-${name}`]!.data()) as Float32Array);
      }
      tf.dispose([value, x, y, ...Object.values(grads), ...Object.values(vars)]);
      return out;
    };

    const expected = await gradientsOn('cpu');
    const actual = await gradientsOn('wasm');
    for (const [name, values] of expected) {
      const error = relativeError(actual.get(name)!, values);
      assert.ok(error <= 1e-3, `${name}: relative error ${error}`);
    }
  });
});
