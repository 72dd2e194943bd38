import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { plainBlock, preactBlock, residualBlock, type Block, type BlockOptions } from '../../src/models/blocks.js';
import type { ForwardContext } from '../../src/models/context.js';
import { ParamStore } from '../../src/models/params.js';

before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

/**
 * Each block against its formula written out by hand with plain TF.js ops, in evaluation mode, with every BN
 * given random scale, shift and moving statistics so that no term is the identity by accident.
 */

let seed = 100;
const random = (shape: number[], lo = -1, hi = 1) => tf.randomUniform(shape, lo, hi, 'float32', seed++);

/** Runs the block once to create its parameters, randomises the BNs, and returns the store and output. */
function run(block: Block, x: tf.Tensor4D, o: BlockOptions): { y: tf.Tensor4D; params: ParamStore } {
  const params = new ParamStore(7);
  const ctx = (): ForwardContext => ({ params, mode: 'eval', batchStats: [] });
  block(ctx(), 'b', x, o);
  for (const p of params.all()) {
    if (p.role === 'bn-scale' || p.name.endsWith('movingVariance')) p.variable.assign(random(p.variable.shape, 0.5, 2));
    else if (p.role !== 'kernel') p.variable.assign(random(p.variable.shape));
  }
  return { y: block(ctx(), 'b', x, o), params };
}

/** By hand: the formulas' pieces from the parameter store. */
function pieces(params: ParamStore) {
  const v = (name: string) => {
    const p = params.get(name);
    assert.ok(p, `no parameter ${name}`);
    return p.variable;
  };
  return {
    conv: (t: tf.Tensor4D, name: string, stride: number) => tf.conv2d(t, v(`${name}.kernel`) as tf.Tensor4D, stride, 'same'),
    bn: (t: tf.Tensor4D, name: string) =>
      tf.add(tf.mul(tf.div(tf.sub(t, v(`${name}.movingMean`)), tf.sqrt(tf.add(v(`${name}.movingVariance`), 1e-5))), v(`${name}.scale`)), v(`${name}.shift`)) as tf.Tensor4D,
    has: (name: string) => params.get(name) !== undefined,
  };
}

/** Option A's shortcut by hand: every second pixel, zero channels padded on both sides. */
function subsampleAndPad(x: tf.Tensor4D, filters: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const sub = tf.stridedSlice(x, [0, 0, 0, 0], [n, h, w, c], [1, 2, 2, 1]) as tf.Tensor4D;
  const pad = (filters - c) / 2;
  return tf.pad(sub, [[0, 0], [0, 0], [0, 0], [pad, filters - c - pad]]);
}

function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const diff = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0];
  const scale = tf.max(tf.abs(expected)).dataSync()[0];
  assert.ok(scale > 0.1, `${what}: a degenerate case (all ~0)`);
  assert.ok(diff <= 1e-5 * Math.max(1, scale), `${what}: max difference ${diff}`);
}

const cases: { what: string; x: number[]; o: BlockOptions }[] = [
  { what: 'same shape', x: [2, 6, 6, 4], o: { filters: 4, stride: 1, shortcut: 'A' } },
  { what: 'downsampling, option A', x: [2, 6, 6, 4], o: { filters: 8, stride: 2, shortcut: 'A' } },
];

describe('blocks are their formulas', () => {
  for (const c of cases) {
    it(`residual: ReLU(BN(conv(ReLU(BN(conv(x))))) + s(x)), ${c.what}`, () => {
      tf.tidy(() => {
        const x = random(c.x) as tf.Tensor4D;
        const { y, params } = run(residualBlock, x, c.o);
        const { conv, bn } = pieces(params);
        const f = bn(conv(tf.relu(bn(conv(x, 'b.conv1', c.o.stride), 'b.bn1')), 'b.conv2', 1), 'b.bn2');
        const s = c.o.stride === 1 ? x : subsampleAndPad(x, c.o.filters);
        assertClose(y, tf.relu(tf.add(f, s)), 'residual');
        params.dispose();
      });
    });

    it(`plain: ReLU(F(x)) with no shortcut term, ${c.what}`, () => {
      tf.tidy(() => {
        const x = random(c.x) as tf.Tensor4D;
        const { y, params } = run(plainBlock, x, c.o);
        const { conv, bn, has } = pieces(params);
        const f = bn(conv(tf.relu(bn(conv(x, 'b.conv1', c.o.stride), 'b.bn1')), 'b.conv2', 1), 'b.bn2');
        assertClose(y, tf.relu(f), 'plain');
        assert.equal(has('b.shortcut.conv.kernel'), false);
        params.dispose();
      });
    });

    it(`full pre-activation: conv(ReLU(BN(conv(ReLU(BN(x)))))) + s(x), nothing after the sum, ${c.what}`, () => {
      tf.tidy(() => {
        const x = random(c.x) as tf.Tensor4D;
        const { y, params } = run(preactBlock, x, c.o);
        const { conv, bn } = pieces(params);
        const a = tf.relu(bn(x, 'b.bn1'));
        const f = conv(tf.relu(bn(conv(a, 'b.conv1', c.o.stride), 'b.bn2')), 'b.conv2', 1);
        // Where the shape changes the shortcut takes the pre-activated input, as the authors' code does.
        const s = c.o.stride === 1 ? x : subsampleAndPad(a, c.o.filters);
        assertClose(y, tf.add(f, s), 'preact');
        params.dispose();
      });
    });
  }

  it('option B: a strided 1x1 projection with BN where the shape changes', () => {
    tf.tidy(() => {
      const x = random([2, 6, 6, 4]) as tf.Tensor4D;
      const o: BlockOptions = { filters: 8, stride: 2, shortcut: 'B' };
      const { y, params } = run(residualBlock, x, o);
      const { conv, bn } = pieces(params);
      const f = bn(conv(tf.relu(bn(conv(x, 'b.conv1', 2), 'b.bn1')), 'b.conv2', 1), 'b.bn2');
      assertClose(y, tf.relu(tf.add(f, bn(conv(x, 'b.shortcut.conv', 2), 'b.shortcut.bn'))), 'option B');
      params.dispose();
    });
  });
});
