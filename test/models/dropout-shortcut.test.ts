import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ABLATION_DEFAULTS } from '../../src/config/schema.js';
import type { ForwardContext } from '../../src/models/context.js';
import { buildNetwork } from '../../src/models/index.js';
import { ParamStore } from '../../src/models/params.js';
import { addShortcut } from '../../src/models/shortcut-kinds.js';

before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

/** F + dropout(s) with F = 0, so the result is the dropped shortcut alone. */
function droppedShortcut(s: tf.Tensor4D, mode: 'train' | 'eval', drawSeed?: number): Float32Array {
  const ctx: ForwardContext = { params: new ParamStore(1), mode, batchStats: [], drawSeed };
  return tf.tidy(() => addShortcut(ctx, 'b', { x: s, stride: 1, f: tf.zerosLike(s), s }, 'dropout', ABLATION_DEFAULTS).dataSync() as Float32Array);
}

describe('dropout shortcut (He et al. 2016, Fig. 2f)', () => {
  const s = tf.add(tf.randomUniform([4, 8, 8, 16], 0, 1, 'float32', 3), 0.5) as tf.Tensor4D;
  const values = s.dataSync();

  it('drops about half the shortcut while training and scales the rest by 1/(1 − 0.5)', () => {
    const y = droppedShortcut(s, 'train', 11);
    let kept = 0;
    y.forEach((v, i) => {
      if (v === 0) return;
      kept++;
      assert.ok(Math.abs(v - 2 * values[i]) < 1e-5, `value ${i}: ${v} is neither 0 nor 2·${values[i]}`);
    });
    assert.ok(Math.abs(kept / y.length - 0.5) < 0.03, `kept ${kept} of ${y.length}`);
  });

  it('draws its mask from the pass seed: the same seed the same mask, another seed another', () => {
    assert.deepEqual(droppedShortcut(s, 'train', 11), droppedShortcut(s, 'train', 11));
    assert.notDeepEqual(droppedShortcut(s, 'train', 11), droppedShortcut(s, 'train', 12));
  });

  it('is the identity at evaluation, and refuses a training pass without a seed', () => {
    assert.deepEqual(droppedShortcut(s, 'eval'), values);
    assert.throws(() => droppedShortcut(s, 'train'), /needs a draw seed/);
  });

  it('a network draws per step and slice: the same pass repeats, the next one differs', () => {
    const net = buildNetwork({ variant: 'dropout-shortcut', depth: 8, width: 4, shortcut: 'A', input: { height: 8, width: 8 } }, 5);
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const logits = (step: number, slice = 0): number[] =>
      tf.tidy(() => {
        const out = net.forward(x, 'train', { step, slice });
        tf.dispose(out.batchStats.flatMap((b) => [b.mean, b.variance]));
        return Array.from(out.logits.dataSync());
      });
    assert.deepEqual(logits(3), logits(3));
    assert.notDeepEqual(logits(3), logits(4));
    assert.notDeepEqual(logits(3, 0), logits(3, 1));
    assert.throws(() => net.forward(x, 'train'), /needs a draw seed/);
    net.params.dispose();
  });
});
