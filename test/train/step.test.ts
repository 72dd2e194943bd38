import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../../src/backend/select.js';
import { buildNetwork, type Network } from '../../src/models/index.js';
import { Sgd } from '../../src/train/sgd.js';
import { softmaxCrossEntropyComposite } from '../../src/ops/softmax-cross-entropy.js';
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

  it('updates BN moving statistics (momentum 0.1, unbiased variance) and evaluation normalises with them', () => {
    const net = buildNetwork({ variant: 'plain', depth: 8, width: 4, shortcut: 'A' }, 1);
    const sgd = new Sgd(net.params.trainable(), { momentum: 0.9, weightDecay: 0 });
    const batch = batchOf(8, 2);
    const stemKernel = tf.clone(param(net, 'stem.conv.kernel')) as tf.Tensor4D;
    trainStep(net, sgd, batch, 0.01);

    // The stem's batch statistics are those of its convolution with the weights before the update.
    const [mean, variance] = tf.tidy(() => {
      const m = tf.moments(tf.conv2d(batch.x, stemKernel, 1, 'same'), [0, 1, 2]);
      const n = 8 * 32 * 32;
      return [tf.mul(m.mean, 0.1), tf.add(0.9, tf.mul(m.variance, (0.1 * n) / (n - 1)))];
    });
    assertClose(param(net, 'stem.bn.movingMean'), mean, 1e-6, 'stem.bn.movingMean');
    assertClose(param(net, 'stem.bn.movingVariance'), variance, 1e-6, 'stem.bn.movingVariance');

    // Evaluation: the network by hand, each batch norm with its moving statistics.
    const byHand = manualPlainLogits(net, batch.x, 'moving');
    const { logits } = net.forward(batch.x, 'eval');
    assertClose(logits, byHand, 1e-4, 'eval logits');
    const e = evaluate(net, [batch]);
    const [loss, wrong] = tf.tidy(() => {
      const reference = softmaxCrossEntropyComposite(byHand, batch.y);
      return [reference.loss.dataSync()[0], reference.wrong.dataSync()[0]];
    });
    assert.ok(Math.abs(e.loss - loss) < 1e-5, `${e.loss} vs ${loss}`);
    assert.equal(e.error, wrong / 8);
    // The check can tell: normalising with the batch's own statistics gives other logits.
    const withBatchStats = manualPlainLogits(net, batch.x, 'batch');
    assert.ok(maxAbsDiff(logits, withBatchStats) > 1e-2);
    tf.dispose([stemKernel, mean, variance, byHand, logits, withBatchStats]);
    sgd.dispose();
    net.params.dispose();
  });

  it("micro-batches apply the mean of the slices' gradients: the update is the average of each slice's own step", () => {
    const spec = { variant: 'residual', depth: 8, width: 4, shortcut: 'A' } as const;
    const options = { momentum: 0.9, weightDecay: 1e-4 };
    const batch = batchOf(8, 3);
    const halves = [0, 4].map((start) => ({ x: tf.slice(batch.x, [start, 0, 0, 0], [4, -1, -1, -1]), y: tf.slice(batch.y, [start], [4]) }));
    // Four copies of one network: one steps on the batch in two micro-batches of 4, two step on one half each.
    const [micro, first, second] = [0, 1, 2].map(() => buildNetwork(spec, 4));
    const sgds = [micro, first, second].map((n) => new Sgd(n.params.trainable(), options));
    const start = snapshot(micro);

    const m = trainStep(micro, sgds[0], batch, 0.05, 4);
    const a = trainStep(first, sgds[1], halves[0], 0.05);
    const b = trainStep(second, sgds[2], halves[1], 0.05);
    // The first step's update is lr·(g + λw): linear in g, so averaged gradients give the averaged update.
    for (const p of micro.params.trainable()) {
      const expected = tf.tidy(() => {
        const w0 = start.get(p.name)!;
        return tf.add(w0, tf.div(tf.add(tf.sub(param(first, p.name), w0), tf.sub(param(second, p.name), w0)), 2));
      });
      const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(expected, start.get(p.name)!))).dataSync()[0]);
      assert.ok(moved > 0, `${p.name} did not move`);
      assertClose(p.variable, expected, 1e-6 + 1e-4 * moved, p.name);
      expected.dispose();
    }
    assert.ok(Math.abs(m.loss - (a.loss + b.loss) / 2) < 1e-6, `${m.loss} vs ${a.loss}, ${b.loss}`);
    assert.equal(m.wrong, a.wrong + b.wrong);
    tf.dispose([...start.values(), ...halves.flatMap((h) => [h.x, h.y]), batch.x, batch.y]);
    for (const s of sgds) s.dispose();
    for (const n of [micro, first, second]) n.params.dispose();
  });
});

function param(net: Network, name: string): tf.Variable {
  const p = net.params.get(name);
  assert.ok(p, `no parameter ${name}`);
  return p.variable;
}

const snapshot = (net: Network): Map<string, tf.Tensor> => new Map(net.params.trainable().map((p) => [p.name, tf.clone(p.variable)]));

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

function assertClose(actual: tf.Tensor, expected: tf.Tensor, tolerance: number, what = ''): void {
  assert.deepEqual(actual.shape, expected.shape, what);
  const diff = maxAbsDiff(actual, expected);
  assert.ok(diff <= tolerance, `${what} differs by ${diff} (tolerance ${tolerance})`);
}

/**
 * plain-8 written out with stock ops (stem, one two-conv block per stage, global average pool, classifier), batch
 * norm as (x − mean)/√(var + ε)·scale + shift with either the layer's moving statistics or the batch's own.
 */
function manualPlainLogits(net: Network, x: tf.Tensor4D, stats: 'moving' | 'batch'): tf.Tensor2D {
  return tf.tidy(() => {
    const convBnRelu = (h: tf.Tensor4D, convName: string, bnName: string, stride: 1 | 2): tf.Tensor4D => {
      const y = tf.conv2d(h, param(net, `${convName}.kernel`) as tf.Tensor4D, stride, 'same');
      const moments = tf.moments(y, [0, 1, 2]);
      const mean = stats === 'moving' ? param(net, `${bnName}.movingMean`) : moments.mean;
      const variance = stats === 'moving' ? param(net, `${bnName}.movingVariance`) : moments.variance;
      const normalised = tf.div(tf.sub(y, mean), tf.sqrt(tf.add(variance, 1e-5)));
      return tf.relu(tf.add(tf.mul(normalised, param(net, `${bnName}.scale`)), param(net, `${bnName}.shift`))) as tf.Tensor4D;
    };
    let h = convBnRelu(x, 'stem.conv', 'stem.bn', 1);
    for (const [stage, stride] of [[1, 1], [2, 2], [3, 2]] as const) {
      const block = `stage${stage}.block1`;
      h = convBnRelu(h, `${block}.conv1`, `${block}.bn1`, stride);
      h = convBnRelu(h, `${block}.conv2`, `${block}.bn2`, 1);
    }
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, param(net, 'classifier.kernel') as tf.Tensor2D), param(net, 'classifier.bias'));
  });
}
