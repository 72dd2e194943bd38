import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { netSize } from '../../src/config/index.js';
import { buildNetwork, totalCost, type NetworkSpec } from '../../src/models/index.js';

const spec = (over: Partial<NetworkSpec>): NetworkSpec => ({ variant: 'residual', depth: 20, width: 16, shortcut: 'A', ...over });
const costOf = (s: NetworkSpec) => {
  const net = buildNetwork(s, 1);
  const cost = totalCost(net.costs);
  net.params.dispose();
  return cost;
};
const twoDigits = (n: number) => Number(n.toPrecision(2));

before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

describe('CIFAR networks (He et al. 2015, section 4.2)', () => {
  it('the counted size (what the schema bounds and describe prints) is what the built network records', () => {
    for (const variant of ['plain', 'residual', 'preact'] as const) {
      for (const shortcut of ['A', 'B'] as const) {
        for (const [depth, width] of [[8, 3], [14, 8], [20, 5]]) {
          const s = spec({ variant, shortcut, depth, width });
          const net = buildNetwork(s, 1);
          const built = { ...totalCost(net.costs), layers: net.costs.filter((c) => c.kind !== 'bn').length };
          net.params.dispose();
          assert.deepEqual(netSize(s), built, JSON.stringify(s));
        }
      }
    }
    // Table 6 of the paper: ResNet-1202 has 19.4M parameters.
    assert.equal(twoDigits(netSize(spec({ depth: 1202 })).params), 19e6);
  });

  it('has 6n+2 weighted layers, ~41M multiply-adds for ResNet-20, and width scales the stages', () => {
    const net = buildNetwork(spec({ depth: 32 }), 1);
    assert.equal(net.costs.filter((c) => c.kind !== 'bn').length, 32);
    net.params.dispose();
    assert.equal(twoDigits(costOf(spec({})).macs), 41e6);
    const narrow = costOf(spec({ width: 8 }));
    const wide = costOf(spec({ width: 16 }));
    assert.ok(narrow.params < wide.params / 3.5 && narrow.params > wide.params / 4.5, `${narrow.params} vs ${wide.params}`);
  });

  it('option B adds 1x1 projections only where dimensions change', () => {
    const a = costOf(spec({ shortcut: 'A' }));
    const b = costOf(spec({ shortcut: 'B' }));
    // Two projections: 16→32 and 32→64 filters, each with BN.
    assert.equal(b.params - a.params, 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64);
  });

  it('maps a batch of images to 10 logits in both modes, for every variant', () => {
    for (const variant of ['plain', 'residual', 'preact'] as const) {
      const net = buildNetwork(spec({ variant, depth: 8 }), 3);
      tf.tidy(() => {
        const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
        const train = net.forward(x, 'train');
        assert.deepEqual(train.logits.shape, [2, 10]);
        assert.equal(train.batchStats.length, net.costs.filter((c) => c.kind === 'bn').length);
        for (const s of train.batchStats) {
          s.mean.dispose();
          s.variance.dispose();
        }
        assert.deepEqual(net.forward(x, 'eval').logits.shape, [2, 10]);
      });
      net.params.dispose();
    }
  });

  it('plain and residual twins start from the same weights; another seed gives others', () => {
    const plain = buildNetwork(spec({ variant: 'plain', depth: 8 }), 1);
    const residual = buildNetwork(spec({ variant: 'residual', depth: 8 }), 1);
    const other = buildNetwork(spec({ variant: 'residual', depth: 8 }), 2);
    const kernel = (n: typeof plain) => n.params.get('stage2.block1.conv1.kernel')!.variable.dataSync();
    assert.deepEqual(kernel(plain), kernel(residual));
    assert.notDeepEqual(kernel(residual), kernel(other));
    // He initialisation: std ≈ sqrt(2 / fan_in), fan_in = 3·3·16.
    const w = kernel(residual);
    const std = Math.sqrt(Array.from(w).reduce((s, v) => s + v * v, 0) / w.length);
    assert.ok(Math.abs(std - Math.sqrt(2 / 144)) < 0.01, `std ${std}`);
    for (const n of [plain, residual, other]) n.params.dispose();
  });
});
