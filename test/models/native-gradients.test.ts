import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadOnednnBackend } from '../../src/backend/onednn.js';
import { loadAddon } from '../../src/backend/onednn/addon.js';
import { loadWasmBackend } from '../../src/backend/wasm.js';
import { buildNetwork, type NetworkSpec } from '../../src/models/index.js';
import { trainingGradients } from '../helpers/gradients.js';
import { relativeError } from '../helpers/values.js';

/**
 * The new blocks and shortcuts on every native backend, against TF.js's pure-JS cpu backend: a training step's
 * loss and the gradient of every parameter. Between them they run each kernel these nets use: 1x1 and 3x3
 * convs at stride 1 and 2 (bottlenecks, projections, gates), training batch norm, ReLU, sigmoid, broadcast
 * multiply and subtract (scaling, gates), the option-A selection at stride 1 (a bottleneck's widening) and 2,
 * dropout's mask arithmetic, and the ImageNet family's 7x7 stride-2 conv and max-pool.
 */

// CI builds the addon, so there a missing one is a failure; elsewhere onednn is optional (as in backend/onednn.test).
const addon = loadAddon();
const skipOnednn = addon.ok || process.env.CI ? false : `onednn backend unavailable: ${addon.error}`;

const CASES: { what: string; spec: Partial<NetworkSpec> }[] = [
  { what: 'residual bottleneck, option B', spec: { variant: 'residual', block: 'bottleneck', depth: 11, shortcut: 'B' } },
  { what: 'preact bottleneck, option A', spec: { variant: 'preact', block: 'bottleneck', depth: 11, shortcut: 'A' } },
  { what: 'plain bottleneck', spec: { variant: 'plain', block: 'bottleneck', depth: 11 } },
  { what: 'option C', spec: { variant: 'residual', shortcut: 'C' } },
  { what: 'option conv3x3-bn', spec: { variant: 'residual', shortcut: 'conv3x3-bn' } },
  { what: 'constant scaling', spec: { variant: 'constant-scaling' } },
  // b_g = −1: the paper's −6 leaves σ′ ≈ 0.0025, and so gate gradients too small to compare well.
  { what: 'exclusive gating', spec: { variant: 'exclusive-gating', ablation: { shortcutScale: 0.5, residualScale: 0.5, gateBias: -1, dropout: 0.5 } } },
  { what: 'shortcut-only gating', spec: { variant: 'shortcut-gating', ablation: { shortcutScale: 0.5, residualScale: 0.5, gateBias: -1, dropout: 0.5 } } },
  { what: 'dropout shortcut', spec: { variant: 'dropout-shortcut' } },
  { what: 'BN after addition', spec: { variant: 'bn-after-add' } },
  { what: 'ReLU before addition', spec: { variant: 'relu-before-add' } },
  { what: 'ReLU-only pre-activation', spec: { variant: 'relu-preact' } },
  // Inputs of 64 pixels leave stage 4 maps of 2x2: training BN over 1x1 maps of 4 images is too ill-conditioned to
  // compare two float32 engines at 1e-3.
  { what: 'ImageNet ResNet-18: 7x7/2 stem conv, 3x3/2 max-pool', spec: { variant: 'residual', family: 'imagenet', depth: 18, shortcut: 'B', input: { height: 64, width: 64 } } },
  { what: 'ImageNet ResNet-50', spec: { variant: 'residual', family: 'imagenet', block: 'bottleneck', depth: 50, shortcut: 'B', input: { height: 64, width: 64 } } },
];

/** A training step's loss and every parameter's gradient, by parameter name, computed on `backend`. */
async function stepOn(backend: string, spec: NetworkSpec): Promise<Map<string, Float32Array>> {
  assert.ok(await tf.setBackend(backend), `cannot select ${backend}`);
  const net = buildNetwork(spec, 7);
  const out = new Map<string, Float32Array>();
  tf.tidy(() => {
    const size = spec.input ?? { height: 8, width: 8 };
    const x = tf.randomNormal([4, size.height, size.width, 3], 0, 1, 'float32', 60) as tf.Tensor4D;
    const labels = tf.oneHot(tf.tensor1d([1, 9, 3, 3], 'int32'), 10);
    for (const [name, values] of trainingGradients(net, x, labels, 5)) out.set(name, values);
  });
  net.params.dispose();
  return out;
}

async function agree(backend: string, spec: NetworkSpec): Promise<void> {
  const expected = await stepOn('cpu', spec);
  const actual = await stepOn(backend, spec);
  assert.deepEqual([...actual.keys()], [...expected.keys()]);
  for (const [name, values] of expected) {
    const e = relativeError(actual.get(name)!, values);
    assert.ok(e <= 1e-3, `${name}: relative error ${e.toExponential(2)} > 1e-3`);
  }
}

const full = (spec: Partial<NetworkSpec>): NetworkSpec => ({ variant: 'residual', depth: 8, width: 4, shortcut: 'A', classes: 10, input: { height: 8, width: 8 }, ...spec });

describe('new blocks and shortcuts: same gradients on onednn as on cpu', { skip: skipOnednn }, () => {
  before(async () => {
    const loaded = await loadOnednnBackend();
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error);
  });
  for (const c of CASES) it(c.what, () => agree('onednn', full(c.spec)));
});

describe('new blocks and shortcuts: same gradients on wasm as on cpu', () => {
  before(async () => {
    const loaded = await loadWasmBackend();
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error);
  });
  for (const c of CASES) it(c.what, () => agree('wasm', full(c.spec)));
});
