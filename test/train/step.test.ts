import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../../src/backend/select.js';
import { buildNetwork } from '../../src/models/index.js';
import { Sgd } from '../../src/train/sgd.js';
import { trainStep } from '../../src/train/step.js';
import { evaluate } from '../../src/train/evaluate.js';

before(async () => {
  const chosen = await chooseBackend('wasm');
  assert.ok(chosen.ok, chosen.ok ? '' : chosen.error);
});

after(() => tf.disposeVariables());

const batchOf = (n: number, seed: number) => ({
  x: tf.randomNormal([n, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D,
  y: tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10), 'int32'),
});

describe('training step', () => {
  it('lowers the loss on a fixed batch and leaks no tensors across 100 steps', () => {
    const net = buildNetwork({ variant: 'residual', depth: 8, width: 4, shortcut: 'A' }, 1);
    const sgd = new Sgd(net.params.trainable(), { momentum: 0.9, weightDecay: 1e-4 });
    const batch = batchOf(8, 1);
    const first = trainStep(net, sgd, batch, 0.05);
    const tensorsAfterFirst = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 99; i++) last = trainStep(net, sgd, batch, 0.05);
    assert.equal(tf.memory().numTensors, tensorsAfterFirst, 'tensor count changed across steps');
    assert.ok(last.loss < first.loss / 2, `loss ${first.loss} → ${last.loss}`);
    assert.ok(last.wrong <= first.wrong);
    sgd.dispose();
    net.params.dispose();
  });

  it('updates BN moving statistics so evaluation uses them', () => {
    const net = buildNetwork({ variant: 'plain', depth: 8, width: 4, shortcut: 'A' }, 1);
    const sgd = new Sgd(net.params.trainable(), { momentum: 0.9, weightDecay: 0 });
    const before = Array.from(net.params.get('stem.bn.movingMean')!.variable.dataSync());
    const batch = batchOf(8, 2);
    trainStep(net, sgd, batch, 0.01);
    const afterStep = Array.from(net.params.get('stem.bn.movingMean')!.variable.dataSync());
    assert.notDeepEqual(afterStep, before);
    const e = evaluate(net, [batch]);
    assert.ok(e.error >= 0 && e.error <= 1 && Number.isFinite(e.loss));
    sgd.dispose();
    net.params.dispose();
  });

  it('micro-batches average gradients of equal slices into one update', () => {
    // Without BN statistics (eval-free check): a full batch and two halves give the same loss on a fresh net.
    const a = buildNetwork({ variant: 'residual', depth: 8, width: 4, shortcut: 'A' }, 4);
    const b = buildNetwork({ variant: 'residual', depth: 8, width: 4, shortcut: 'A' }, 4);
    const sa = new Sgd(a.params.trainable(), { momentum: 0.9, weightDecay: 1e-4 });
    const sb = new Sgd(b.params.trainable(), { momentum: 0.9, weightDecay: 1e-4 });
    const batch = batchOf(8, 3);
    const whole = trainStep(a, sa, batch, 0.05);
    const halves = trainStep(b, sb, batch, 0.05, 4);
    assert.equal(whole.wrong, halves.wrong);
    // BN statistics differ per slice, so losses are close, not equal.
    assert.ok(Math.abs(whole.loss - halves.loss) < 0.5, `${whole.loss} vs ${halves.loss}`);
    assert.ok(Number.isFinite(halves.loss));
    for (const s of [sa, sb]) s.dispose();
    for (const n of [a, b]) n.params.dispose();
  });
});
