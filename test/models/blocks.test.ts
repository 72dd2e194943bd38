import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { UNITS, type BlockOptions } from '../../src/models/blocks.js';
import type { ForwardContext } from '../../src/models/context.js';
import { ParamStore } from '../../src/models/params.js';
import type { Variant } from '../../src/config/schema.js';

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

/** Not the paper's values, so that a block using a default or swapping two constants fails. */
const ABLATION = { shortcutScale: 0.3, residualScale: 0.7, gateBias: -1.5, dropout: 0.5 };

/** Runs the block once to create its parameters, randomises the BNs, and returns the store and output. */
function run(variant: Variant, x: tf.Tensor4D, o: BlockOptions): { y: tf.Tensor4D; params: ParamStore } {
  const params = new ParamStore(7);
  const ctx = (): ForwardContext => ({ params, mode: 'eval', batchStats: [] });
  UNITS[variant].block(ctx(), 'b', x, o);
  for (const p of params.all()) {
    if (p.role === 'bn-scale' || p.name.endsWith('movingVariance')) p.variable.assign(random(p.variable.shape, 0.5, 2));
    else if (p.role === 'bn-shift' || p.role === 'bn-moving') p.variable.assign(random(p.variable.shape));
  }
  return { y: UNITS[variant].block(ctx(), 'b', x, o), params };
}

/** The formulas' pieces, by hand, from the parameter store. */
function pieces(params: ParamStore, o: BlockOptions) {
  const v = (name: string) => {
    const p = params.get(name);
    assert.ok(p, `no parameter ${name}`);
    return p.variable;
  };
  const conv = (t: tf.Tensor4D, name: string, stride: number) => tf.conv2d(t, v(`${name}.kernel`) as tf.Tensor4D, stride, 'same');
  const bn = (t: tf.Tensor4D, name: string) =>
    tf.add(tf.mul(tf.div(tf.sub(t, v(`${name}.movingMean`)), tf.sqrt(tf.add(v(`${name}.movingVariance`), 1e-5))), v(`${name}.scale`)), v(`${name}.shift`)) as tf.Tensor4D;
  const bottleneck = o.kind === 'bottleneck';
  const outputs = bottleneck ? 4 * o.filters : o.filters;
  const changes = (x: tf.Tensor4D) => o.stride !== 1 || x.shape[3] !== outputs;
  /** F: conv → BN, ReLU between; `lastBn: false` leaves the last conv's output as it is. */
  const F = (x: tf.Tensor4D, lastBn = true) => {
    const h1 = tf.relu(bn(conv(x, 'b.conv1', o.stride), 'b.bn1'));
    const last = bottleneck ? conv(tf.relu(bn(conv(h1, 'b.conv2', 1), 'b.bn2')), 'b.conv3', 1) : conv(h1, 'b.conv2', 1);
    return lastBn ? bn(last, bottleneck ? 'b.bn3' : 'b.bn2') : last;
  };
  /** Pre-activation F from a = ReLU(BN1(x)): conv, then BN → ReLU → conv for the rest. */
  const preF = (a: tf.Tensor4D) => {
    const h = conv(tf.relu(bn(conv(a, 'b.conv1', o.stride), 'b.bn2')), 'b.conv2', 1);
    return bottleneck ? conv(tf.relu(bn(h, 'b.bn3')), 'b.conv3', 1) : h;
  };
  /** s(x) with option A: every second pixel where the map halves, zero channels padded on both sides. */
  const s = (x: tf.Tensor4D) => {
    if (!changes(x)) return x;
    const [n, h, w, c] = x.shape;
    const sub = tf.stridedSlice(x, [0, 0, 0, 0], [n, h, w, c], [1, o.stride, o.stride, 1]) as tf.Tensor4D;
    const pad = Math.floor((outputs - c) / 2);
    return tf.pad(sub, [[0, 0], [0, 0], [0, 0], [pad, outputs - c - pad]]);
  };
  const g = (x: tf.Tensor4D) => tf.sigmoid(tf.add(conv(x, 'b.gate', o.stride), v('b.gate.bias')));
  return { conv, bn, F, preF, s, g, changes, outputs };
}

type Pieces = ReturnType<typeof pieces>;
type Formula = (p: Pieces, x: tf.Tensor4D, o: BlockOptions) => tf.Tensor;

const FORMULAS: Record<Variant, [string, Formula]> = {
  plain: ['ReLU(F(x)), no shortcut', (p, x) => tf.relu(p.F(x))],
  residual: ['ReLU(F(x) + s(x))', (p, x) => tf.relu(tf.add(p.F(x), p.s(x)))],
  preact: [
    'F(a) + s(a or x), a = ReLU(BN(x)), F = BN-ReLU-conv',
    (p, x) => {
      const a = tf.relu(p.bn(x, 'b.bn1'));
      return tf.add(p.preF(a), p.s(p.changes(x) ? a : x));
    },
  ],
  'constant-scaling': ['ReLU((1−λ)·F(x) + λ·s(x))', (p, x) => tf.relu(tf.add(tf.mul(p.F(x), 0.7), tf.mul(p.s(x), 0.3)))],
  'exclusive-gating': ['ReLU(g(x)·F(x) + (1 − g(x))·s(x))', (p, x) => tf.relu(tf.add(tf.mul(p.g(x), p.F(x)), tf.mul(tf.sub(1, p.g(x)), p.s(x))))],
  'shortcut-gating': ['ReLU(F(x) + (1 − g(x))·s(x))', (p, x) => tf.relu(tf.add(p.F(x), tf.mul(tf.sub(1, p.g(x)), p.s(x))))],
  'conv-shortcut': ['ReLU(F(x) + BN(conv1x1(x))) on every block', (p, x, o) => tf.relu(tf.add(p.F(x), p.bn(p.conv(x, 'b.shortcut.conv', o.stride), 'b.shortcut.bn')))],
  'dropout-shortcut': ['ReLU(F(x) + s(x)) at evaluation', (p, x) => tf.relu(tf.add(p.F(x), p.s(x)))],
  'bn-after-add': ['ReLU(BN(F′(x) + s(x))), F′ without its last BN', (p, x) => tf.relu(p.bn(tf.add(p.F(x, false), p.s(x)), 'b.bnAfterAdd'))],
  'relu-before-add': ['ReLU(F(x)) + s(x)', (p, x) => tf.add(tf.relu(p.F(x)), p.s(x))],
  'relu-preact': [
    'F(ReLU(x)) + s(ReLU(x) or x)',
    (p, x) => {
      const a = tf.relu(x);
      return tf.add(p.F(a), p.s(p.changes(x) ? a : x));
    },
  ],
};

function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const diff = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0];
  const scale = tf.max(tf.abs(expected)).dataSync()[0];
  assert.ok(scale > 0.1, `${what}: a degenerate case (all ~0)`);
  assert.ok(diff <= 1e-5 * Math.max(1, scale), `${what}: max difference ${diff}`);
}

const SHAPES: { what: string; x: number[]; o: BlockOptions; out: number[] }[] = [
  { what: 'basic, same shape', x: [2, 6, 6, 4], o: { filters: 4, stride: 1, shortcut: 'A' }, out: [2, 6, 6, 4] },
  { what: 'basic, downsampling', x: [2, 6, 6, 4], o: { filters: 8, stride: 2, shortcut: 'A' }, out: [2, 3, 3, 8] },
  { what: 'bottleneck, same shape', x: [2, 4, 4, 12], o: { filters: 3, stride: 1, shortcut: 'A', kind: 'bottleneck' }, out: [2, 4, 4, 12] },
  { what: 'bottleneck, widening (a first stage)', x: [2, 4, 4, 4], o: { filters: 4, stride: 1, shortcut: 'A', kind: 'bottleneck' }, out: [2, 4, 4, 16] },
  { what: 'bottleneck, downsampling', x: [2, 6, 6, 8], o: { filters: 4, stride: 2, shortcut: 'A', kind: 'bottleneck' }, out: [2, 3, 3, 16] },
];

describe('blocks are their formulas', () => {
  for (const [variant, [formula, expected]] of Object.entries(FORMULAS) as [Variant, [string, Formula]][]) {
    it(`${variant}: ${formula}`, () => {
      for (const c of SHAPES) {
        tf.tidy(() => {
          const x = random(c.x) as tf.Tensor4D;
          const o = { ...c.o, ablation: ABLATION };
          const { y, params } = run(variant, x, o);
          assert.deepEqual(y.shape, c.out, `${c.what}: output shape`);
          assertClose(y, expected(pieces(params, o), x, o), `${variant}, ${c.what}`);
          params.dispose();
        });
      }
    });
  }

  it('plain blocks have no shortcut parameters; gates start at b_g', () => {
    tf.tidy(() => {
      const x = random([2, 6, 6, 4]) as tf.Tensor4D;
      const o: BlockOptions = { filters: 8, stride: 2, shortcut: 'B', ablation: ABLATION };
      const plain = run('plain', x, o).params;
      assert.deepEqual(plain.all().filter((p) => p.name.includes('shortcut')), []);
      const gated = new ParamStore(1);
      UNITS['shortcut-gating'].block({ params: gated, mode: 'eval', batchStats: [] }, 'b', x, o);
      assert.deepEqual(Array.from(gated.get('b.gate.bias')!.variable.dataSync()), Array(8).fill(-1.5));
      for (const p of [plain, gated]) p.dispose();
    });
  });
});

describe('shortcut options where the shape changes (He et al. 2015, Table 3, and the note\'s conv3x3-bn)', () => {
  const cases: { option: BlockOptions['shortcut']; formula: string; s: (p: Pieces, x: tf.Tensor4D) => tf.Tensor }[] = [
    { option: 'B', formula: 'BN(conv1x1/2(x))', s: (p, x) => p.bn(p.conv(x, 'b.shortcut.conv', 2), 'b.shortcut.bn') },
    { option: 'C', formula: 'BN(conv1x1/2(x))', s: (p, x) => p.bn(p.conv(x, 'b.shortcut.conv', 2), 'b.shortcut.bn') },
    { option: 'conv3x3-bn', formula: 'BN(conv3x3/2(x))', s: (p, x) => p.bn(p.conv(x, 'b.shortcut.conv', 2), 'b.shortcut.bn') },
  ];
  for (const c of cases) {
    it(`${c.option}: s(x) = ${c.formula}`, () => {
      tf.tidy(() => {
        const x = random([2, 6, 6, 4]) as tf.Tensor4D;
        const o: BlockOptions = { filters: 8, stride: 2, shortcut: c.option };
        const { y, params } = run('residual', x, o);
        const p = pieces(params, o);
        assert.deepEqual(params.get('b.shortcut.conv.kernel')!.variable.shape, c.option === 'conv3x3-bn' ? [3, 3, 4, 8] : [1, 1, 4, 8]);
        assertClose(y, tf.relu(tf.add(p.F(x), c.s(p, x))), `option ${c.option}`);
        params.dispose();
      });
    });
  }

  it('where the shape stays, B and conv3x3-bn are the identity and C a 1x1 projection', () => {
    tf.tidy(() => {
      const x = random([2, 6, 6, 8]) as tf.Tensor4D;
      for (const option of ['B', 'conv3x3-bn', 'C'] as const) {
        const o: BlockOptions = { filters: 8, stride: 1, shortcut: option };
        const { y, params } = run('residual', x, o);
        const p = pieces(params, o);
        const s = option === 'C' ? p.bn(p.conv(x, 'b.shortcut.conv', 1), 'b.shortcut.bn') : x;
        assertClose(y, tf.relu(tf.add(p.F(x), s)), `option ${option}`);
        assert.equal(params.get('b.shortcut.conv.kernel') !== undefined, option === 'C');
        params.dispose();
      }
    });
  });
});
