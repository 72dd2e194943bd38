import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadWasmBackend } from '../../src/backend/wasm.js';
import { buildNetwork } from '../../src/models/index.js';
import '../../src/ops/gradients.js';
import { installSaveByReference } from '../../src/ops/saved-tensors.js';
import { trainingGradients } from '../helpers/gradients.js';

interface Step {
  grads: Map<string, Float32Array>;
  kernels: string[];
  leaked: number;
}

/** A residual net's training-mode loss and parameter gradients, with the kernels the engine ran for them. */
async function step(): Promise<Step> {
  const net = buildNetwork({ variant: 'residual', depth: 8, width: 4, shortcut: 'A' }, 3);
  const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d([1, 7], 'int32'), 10);
  const before = tf.memory().numTensors;
  let grads = new Map<string, Float32Array>();
  const profile = await tf.profile(() => {
    grads = trainingGradients(net, x, labels, 0);
  });
  const leaked = tf.memory().numTensors - before;
  tf.dispose([x, labels]);
  net.params.dispose();
  return { grads, kernels: profile.kernels.map((k) => k.name), leaked };
}

/** The same step with TF.js's own saving (an Identity kernel per saved tensor), then ours again. */
async function stepWithIdentities(): Promise<Step> {
  const engine = tf.engine() as unknown as Record<string, unknown>;
  delete engine.clone;
  try {
    return await step();
  } finally {
    installSaveByReference();
  }
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`tensors saved for the backward pass, by reference (${backend})`, () => {
    // The Identity kernels left are Cast's gradient (dy.clone()), a handful.
    it('runs no Identity kernel to save tensors, leaks no tensor, and gives TF.js own gradients to the bit', async () => {
      if (backend === 'wasm') assert.ok((await loadWasmBackend({ threads: 1 })).ok);
      assert.ok(await tf.setBackend(backend));
      const ours = await step();
      const theirs = await stepWithIdentities();
      const identities = (s: Step): number => s.kernels.filter((k) => k === 'Identity').length;
      assert.ok(identities(theirs) > 50, `the baseline saves through Identity (${identities(theirs)})`);
      assert.ok(identities(ours) * 4 < identities(theirs), `${identities(ours)} Identity kernels against ${identities(theirs)}`);
      assert.equal(ours.leaked, 0);
      assert.equal(theirs.leaked, 0);
      assert.deepEqual([...ours.grads.keys()], [...theirs.grads.keys()]);
      for (const [name, values] of theirs.grads) assert.deepEqual(ours.grads.get(name), values, name);
    });
  });
}
