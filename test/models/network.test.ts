import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { VARIANTS } from '../../src/config/schema.js';
import { buildNetwork, totalCost, weightedLayers, type NetworkSpec } from '../../src/models/index.js';

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
  it('has 6n+2 weighted layers, ~41M multiply-adds for ResNet-20, and width scales the stages', () => {
    const net = buildNetwork(spec({ depth: 32 }), 1);
    assert.equal(weightedLayers(net.costs), 32);
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

  it('maps a batch of images to 10 logits in both modes, for every variant, with basic and bottleneck blocks', () => {
    for (const block of ['basic', 'bottleneck'] as const) {
      for (const variant of VARIANTS) {
        const net = buildNetwork(spec({ variant, depth: block === 'basic' ? 8 : 11, block, width: 4, input: { height: 16, width: 16 } }), 3);
        tf.tidy(() => {
          const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
          const train = net.forward(x, 'train', { step: 1 });
          assert.deepEqual(train.logits.shape, [2, 10], `${variant}, ${block}`);
          assert.equal(train.batchStats.length, net.costs.filter((c) => c.kind === 'bn').length);
          for (const s of train.batchStats) {
            s.mean.dispose();
            s.variance.dispose();
          }
          assert.deepEqual(net.forward(x, 'eval').logits.shape, [2, 10]);
        });
        assert.equal(weightedLayers(net.costs), block === 'basic' ? 8 : 11, `${variant}, ${block}: weighted layers`);
        net.params.dispose();
      }
    }
  });

  it('a bottleneck net widens to 4× at each stage\'s output: 64, 128, 256 channels on 32, 16, 8 pixels', () => {
    const net = buildNetwork(spec({ variant: 'preact', depth: 11, block: 'bottleneck', shortcut: 'B' }), 1);
    const kernel = (name: string) => net.params.get(`${name}.kernel`)!.variable.shape;
    assert.deepEqual(kernel('stage1.block1.conv1'), [1, 1, 16, 16]);
    assert.deepEqual(kernel('stage1.block1.conv3'), [1, 1, 16, 64]);
    assert.deepEqual(kernel('stage2.block1.conv1'), [1, 1, 64, 32]);
    assert.deepEqual(kernel('stage3.block1.conv3'), [1, 1, 64, 256]);
    assert.deepEqual(kernel('classifier'), [256, 10]);
    // Each conv's multiply-adds say the map it works on: the stride is on the first 1x1 conv.
    const macs = (name: string) => net.costs.find((c) => c.layer === name)!.macs;
    assert.equal(macs('stage2.block1.conv1'), 16 * 16 * 64 * 32);
    assert.equal(macs('stage3.block1.conv2'), 8 * 8 * 9 * 64 * 64);
    net.params.dispose();
  });

  it('ImageNet nets take any input size and class count: 7x7/2 stem, 3x3/2 max-pool, four stages', () => {
    for (const [depth, block] of [[18, 'basic'], [50, 'bottleneck']] as const) {
      const net = buildNetwork(spec({ family: 'imagenet', depth, block, width: 8, classes: 5, input: { height: 40, width: 40 } }), 2);
      tf.tidy(() => {
        const x = tf.randomNormal([2, 40, 40, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
        const train = net.forward(x, 'train', { step: 1 });
        tf.dispose(train.batchStats.flatMap((s) => [s.mean, s.variance]));
        assert.deepEqual(train.logits.shape, [2, 5]);
        assert.deepEqual(net.forward(x, 'eval').logits.shape, [2, 5]);
      });
      assert.deepEqual(net.params.get('stem.conv.kernel')!.variable.shape, [7, 7, 3, 8]);
      // 40 → 20 (stem) → 10 (pool): stage 1 works on 10x10 maps, stage 4 on 2x2 with 8·8 (×4) channels.
      const cost = (name: string) => net.costs.find((c) => c.layer === name)!;
      assert.equal(cost('stage1.block1.conv1').macs / cost('stage1.block1.conv1').params, 100);
      const last = block === 'basic' ? 'stage4.block2.conv2' : 'stage4.block3.conv3';
      assert.equal(cost(last).macs / cost(last).params, 4);
      assert.equal(weightedLayers(net.costs), depth);
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
