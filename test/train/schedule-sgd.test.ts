import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { configSchema } from '../../src/config/index.js';
import { ParamStore } from '../../src/models/params.js';
import { learningRate } from '../../src/train/schedule.js';
import { Sgd } from '../../src/train/sgd.js';

before(async () => {
  await tf.setBackend('cpu');
});

describe('learning-rate schedule', () => {
  it('is 0.1, divided by 10 after 32k and 48k iterations (the paper\'s recipe)', () => {
    const { train } = configSchema.parse({});
    assert.equal(learningRate(train, 1), 0.1);
    assert.equal(learningRate(train, 32000), 0.1);
    assert.ok(Math.abs(learningRate(train, 32001) - 0.01) < 1e-12);
    assert.ok(Math.abs(learningRate(train, 48001) - 0.001) < 1e-12);
  });

  it('uses the warm-up rate for the first iterations when asked', () => {
    const { train } = configSchema.parse({ train: { warmup: { iterations: 400 } } });
    assert.equal(learningRate(train, 400), 0.01);
    assert.equal(learningRate(train, 401), 0.1);
  });
});

describe('SGD', () => {
  it('follows PyTorch: g = grad + λw on kernels only, v = μv + g, w -= lr·v', () => {
    const store = new ParamStore(1);
    const kernel = store.getOrCreate('k', 'kernel', () => tf.tensor1d([1, -2]));
    const scale = store.getOrCreate('s', 'bn-scale', () => tf.tensor1d([3]));
    const sgd = new Sgd(store.trainable(), { momentum: 0.9, weightDecay: 0.1 });
    const step = (lr: number) =>
      sgd.apply(new Map([['k', tf.tensor1d([0.5, 0.5])], ['s', tf.tensor1d([1])]]), lr);
    step(0.1);
    // v = [0.5 + 0.1, 0.5 - 0.2] = [0.6, 0.3]; w = [1 - 0.06, -2 - 0.03]; scale: v = 1, w = 3 - 0.1.
    assertClose(kernel.dataSync(), [0.94, -2.03]);
    assertClose(scale.dataSync(), [2.9]);
    step(0.01);
    // v = 0.9·[0.6, 0.3] + [0.5 + 0.094, 0.5 - 0.203] = [1.134, 0.567]
    assertClose(kernel.dataSync(), [0.94 - 0.01134, -2.03 - 0.00567]);
    assertClose(scale.dataSync(), [2.9 - 0.01 * 1.9]);
    sgd.dispose();
    store.dispose();
  });
});

function assertClose(actual: ArrayLike<number>, expected: number[]): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) < 1e-6, `${actual[i]} vs ${e} at ${i}`));
}
