import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../../src/ops/gradients.js'; // TF.js op gradients
import { loadOnednnBackend } from '../../src/backend/onednn.js';
import { loadAddon } from '../../src/backend/onednn/addon.js';
import { loadWasmBackend } from '../../src/backend/wasm.js';
import { buildNetwork } from '../../src/models/index.js';
import {
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_GRAD,
  softmaxCrossEntropy,
  softmaxCrossEntropyComposite,
  type LossAndWrong,
} from '../../src/ops/softmax-cross-entropy.js';
import { Sgd } from '../../src/train/sgd.js';
import { trainStep } from '../../src/train/step.js';
import { randomValues, relativeError } from '../helpers/values.js';

// As test/backend/onednn.test.ts: CI builds the addon, so there a missing addon is a failure.
const addon = loadAddon();
const skipOnednn = addon.ok || process.env.CI ? false : `onednn backend unavailable: ${addon.error}`;

interface Case {
  name: string;
  logits: number[][];
  labels: number[];
  /**
   * How far the composite may be from the kernels (relative). Its float32 z − logSumExp(z) is off by up to
   * ulp(|z|) (7.6e-6 at 100), which exp turns into a relative error of the probabilities; the kernels' float64
   * is checked against an exact reference instead.
   */
  tolerance?: number;
}

const randomCase = (rows: number, classes: number, scale: number, seed: number): Case => {
  const v = randomValues(rows * classes, seed);
  return {
    name: `random [${rows}, ${classes}] ×${scale}`,
    logits: Array.from({ length: rows }, (_, i) => v.slice(i * classes, (i + 1) * classes).map((x) => x * scale)),
    labels: Array.from({ length: rows }, (_, i) => (i * 7 + seed) % classes),
  };
};

const CASES: Case[] = [
  randomCase(32, 10, 3, 1),
  randomCase(5, 3, 0.01, 2),
  {
    // exp(±100) over- and underflows float32 and ±80 nearly so: only a max-shifted log-sum-exp stays finite.
    name: 'extreme logits',
    logits: [
      [80, -80, 0, 80, -80],
      [-80, -80, -80, -80, -80],
      [100, -100, 100, 0, 1],
      [-100, 80, -80, 100, 3],
      [80, 79.5, -80, 0, 0],
    ],
    labels: [3, 0, 1, 2, 4],
    tolerance: 1e-5,
  },
  {
    // tf.argMax takes the first maximum: a tie before the label is wrong, one after it is right (2 wrong here;
    // the last maximum would make it 4).
    name: 'ties',
    logits: [
      [0, 0, 0, 0],
      [2, 1, 2, 0],
      [1, 2, 0, 2],
      [0.5, 0.5, 0.5, 0.5],
      [1, 0, 0, 1],
    ],
    labels: [0, 0, 1, 2, 3],
  },
];

/** Loss, count and dLoss/dLogits (for loss·dyScale), as plain numbers. */
function evaluate(f: (l: tf.Tensor2D, y: tf.Tensor1D) => LossAndWrong, c: Case, dyScale = 1): { loss: number; wrong: number; grad: Float32Array } {
  return tf.tidy(() => {
    const logits = tf.tensor2d(c.logits);
    const labels = tf.tensor1d(c.labels, 'int32');
    const out = f(logits, labels);
    const [grad] = tf.grads((l: tf.Tensor) => tf.mul(f(l as tf.Tensor2D, labels).loss, dyScale))([logits]);
    return { loss: out.loss.dataSync()[0], wrong: out.wrong.dataSync()[0], grad: grad.dataSync() as Float32Array };
  });
}

/** Mean cross-entropy and its gradient (dy = 1) in float64, straight from the definition. */
function exact(c: Case): { loss: number; grad: number[] } {
  const n = c.logits.length;
  let loss = 0;
  const grad = c.logits.flatMap((row, i) => {
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0));
    loss += (lse - row[c.labels[i]]) / n;
    return row.map((z, j) => (Math.exp(z - lse) - (j === c.labels[i] ? 1 : 0)) / n);
  });
  return { loss, grad };
}

/** The kernels against TF.js's composite on the current backend: loss and gradient within 1e-6, count exact. */
function agreesWithComposite(backend: string): void {
  assert.equal(tf.getBackend(), backend);
  assert.ok(tf.getKernel(SOFTMAX_CROSS_ENTROPY, backend), `${backend} registers ${SOFTMAX_CROSS_ENTROPY}`);
  for (const c of CASES) {
    for (const dyScale of [1, -2.5]) {
      const fused = evaluate(softmaxCrossEntropy, c, dyScale);
      const composite = evaluate(softmaxCrossEntropyComposite, c, dyScale);
      assert.ok(Number.isFinite(fused.loss), `${c.name}: loss ${fused.loss}`);
      const lossError = Math.abs(fused.loss - composite.loss) / Math.abs(composite.loss);
      const tolerance = c.tolerance ?? 1e-6;
      assert.ok(lossError <= tolerance, `${c.name}: loss ${fused.loss} vs composite ${composite.loss} (relative ${lossError.toExponential(2)})`);
      assert.equal(fused.wrong, composite.wrong, `${c.name}: wrong count`);
      if (dyScale === 1) {
        const reference = exact(c);
        const exactError = Math.max(Math.abs(fused.loss - reference.loss) / reference.loss, relativeError(fused.grad, Float32Array.from(reference.grad)));
        assert.ok(exactError <= 2e-7, `${c.name}: ${exactError.toExponential(2)} from the float64 definition`);
      }
      const gradError = relativeError(fused.grad, composite.grad);
      assert.ok(gradError <= tolerance, `${c.name}, dy ×${dyScale}: gradient relative error ${gradError.toExponential(2)}`);
    }
  }
}

function lossOfNaN(): number {
  return tf.tidy(() => softmaxCrossEntropy(tf.tensor2d([[0, NaN, 1], [1, 2, 3]]), tf.tensor1d([0, 1], 'int32')).loss.dataSync()[0]);
}

function rejectsBadLabels(): void {
  tf.tidy(() => {
    assert.throws(() => softmaxCrossEntropy(tf.tensor2d([[0, 1], [1, 0]]), tf.tensor1d([0, 2], 'int32')), /label 2 of row 1 is outside \[0, 2\)/);
    assert.throws(() => softmaxCrossEntropy(tf.tensor2d([[0, 1]]), tf.tensor1d([-1], 'int32')), /outside/);
  });
}

/** The kernels allocate nothing that outlives the call: no tensor count growth across forward and backward. */
function leaksNothing(): void {
  const c = CASES[0];
  evaluate(softmaxCrossEntropy, c);
  const before = tf.memory().numTensors;
  evaluate(softmaxCrossEntropy, c);
  assert.equal(tf.memory().numTensors, before);
}

/** The loss's kernels in one training step of a tiny network: the fused pair once each, no composite piece. */
async function stepCallsTheFusedKernels(): Promise<void> {
  const net = buildNetwork({ variant: 'plain', depth: 8, width: 4, shortcut: 'A' }, 1);
  const sgd = new Sgd(net.params.trainable(), { momentum: 0.9, weightDecay: 1e-4 });
  const batch = {
    x: tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D,
    y: tf.tensor1d([0, 1, 2, 3], 'int32'),
  };
  const profile = await tf.profile(() => {
    trainStep(net, sgd, batch, 0.05);
  });
  const calls = (name: string): number => profile.kernels.filter((k) => k.name === name).length;
  assert.equal(calls(SOFTMAX_CROSS_ENTROPY), 1);
  assert.equal(calls(SOFTMAX_CROSS_ENTROPY_GRAD), 1);
  for (const piece of [tf.OneHot, tf.ArgMax, tf.NotEqual, tf.Log, tf.Exp, tf.Max]) assert.equal(calls(piece), 0, `${piece} calls`);
  tf.dispose([batch.x, batch.y]);
  sgd.dispose();
  net.params.dispose();
}

function isTheComposite(backend: string): void {
  assert.equal(tf.getKernel(SOFTMAX_CROSS_ENTROPY, backend), undefined);
  for (const c of CASES) {
    const fallback = evaluate(softmaxCrossEntropy, c, -2.5);
    const composite = evaluate(softmaxCrossEntropyComposite, c, -2.5);
    assert.equal(fallback.loss, composite.loss, c.name);
    assert.equal(fallback.wrong, composite.wrong, c.name);
    assert.deepEqual(fallback.grad, composite.grad, c.name);
  }
}

describe('softmax cross-entropy kernels', () => {
  describe('onednn', { skip: skipOnednn }, () => {
    it('loads onednn', async () => {
      const loaded = await loadOnednnBackend();
      assert.ok(loaded.ok, loaded.ok ? '' : loaded.error);
    });
    it('loss, count and gradient agree with the TF.js composite, extreme logits and ties included', () => agreesWithComposite('onednn'));
    it('NaN logits give a NaN loss', () => assert.ok(Number.isNaN(lossOfNaN())));
    it('labels outside [0, K) are a one-line error', rejectsBadLabels);
    it('leaks no tensors', leaksNothing);
    it('a training step runs the fused pair instead of the composite', stepCallsTheFusedKernels);
  });

  describe('fallback (cpu, the reference, and wasm have no kernel)', () => {
    it('cpu: is the composite to the bit, value, count and gradient', async () => {
      assert.ok(await tf.setBackend('cpu'));
      isTheComposite('cpu');
    });
    it('wasm: is the composite to the bit, value, count and gradient', async () => {
      const loaded = await loadWasmBackend({ threads: 1 });
      assert.ok(loaded.ok, loaded.ok ? '' : loaded.error);
      assert.ok(await tf.setBackend('wasm'));
      isTheComposite('wasm');
    });
  });
});
