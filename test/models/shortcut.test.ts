import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { shortcut } from '../../src/models/shortcuts.js';
import { ParamStore } from '../../src/models/params.js';

before(async () => {
  await tf.setBackend('cpu');
});

describe('option A shortcut', () => {
  it('is x[:, ::2, ::2, :] with zero channels padded on both sides', () => {
    const [n, h, w, c] = [2, 6, 6, 4];
    const values = Array.from({ length: n * h * w * c }, (_, i) => i + 1);
    const x = tf.tensor4d(values, [n, h, w, c]);
    const y = shortcut({ params: new ParamStore(1), mode: 'eval', batchStats: [] }, 's', x, 8, 2, 'A');
    assert.deepEqual(y.shape, [n, 3, 3, 8]);
    const out = y.arraySync();
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          const expected = [0, 0, ...Array.from({ length: c }, (_, k) => values[((b * h + 2 * i) * w + 2 * j) * c + k]), 0, 0];
          assert.deepEqual(out[b][i][j], expected);
        }
      }
    }
  });

  it('is the identity where the shape does not change', () => {
    const x = tf.ones([1, 4, 4, 16]) as tf.Tensor4D;
    assert.equal(shortcut({ params: new ParamStore(1), mode: 'eval', batchStats: [] }, 's', x, 16, 1, 'A'), x);
  });

  it('passes gradients back to the subsampled positions only', () => {
    const x = tf.randomNormal([1, 4, 4, 2]) as tf.Tensor4D;
    const ctx = { params: new ParamStore(1), mode: 'eval' as const, batchStats: [] };
    const dx = tf.grad((t: tf.Tensor) => tf.sum(shortcut(ctx, 's', t as tf.Tensor4D, 4, 2, 'A')))(x);
    const g = dx.arraySync() as number[][][][];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.deepEqual(g[0][i][j], i % 2 === 0 && j % 2 === 0 ? [1, 1] : [0, 0]);
  });
});
