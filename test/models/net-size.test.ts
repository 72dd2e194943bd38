import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BLOCK_KINDS, netSize, SHORTCUT_OPTIONS, VARIANTS, type NetShape } from '../../src/config/index.js';
import { buildNetwork, totalCost, weightedLayers, type NetworkSpec } from '../../src/models/index.js';

// Only Node and TF.js's pure-JS cpu backend. Small widths and inputs keep building every combination quick.
before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

/** What the built network records: the counts describe prints and the schema bounds must equal these. */
function built(spec: NetworkSpec) {
  const net = buildNetwork(spec, 1);
  const { params, macs } = totalCost(net.costs);
  net.params.dispose();
  return { params, macs, layers: weightedLayers(net.costs) };
}

const counted = (shape: NetShape, classes: number, input: { height: number; width: number }) => {
  const { params, macs, layers } = netSize(shape, classes, input);
  return { params, macs, layers };
};

describe('netSize: the counts of a network from its shape alone', () => {
  it('equal the built cifar networks\' for every variant, block and shortcut option', () => {
    for (const block of BLOCK_KINDS) {
      for (const variant of VARIANTS) {
        for (const shortcut of SHORTCUT_OPTIONS) {
          // Odd widths and an odd input side catch a rounding of 'same' padding or a channel count off by one.
          const depth = block === 'basic' ? 14 : 20;
          const input = { height: 9, width: 12 };
          const shape: NetShape = { variant, depth, width: 3, shortcut, family: 'cifar', block };
          assert.deepEqual(counted(shape, 7, input), built({ ...shape, classes: 7, input }), JSON.stringify(shape));
        }
      }
    }
  });

  it('equal the built imagenet networks\' (18 and 50, every variant, options A and B)', () => {
    for (const [depth, block] of [[18, 'basic'], [50, 'bottleneck']] as const) {
      for (const variant of VARIANTS) {
        for (const shortcut of ['A', 'B'] as const) {
          const input = { height: 33, width: 30 };
          const shape: NetShape = { variant, depth, width: 2, shortcut, family: 'imagenet', block };
          assert.deepEqual(counted(shape, 5, input), built({ ...shape, classes: 5, input }), JSON.stringify(shape));
        }
      }
    }
  });

  it('give the papers\' sizes at full scale without building anything', () => {
    const cifar = (depth: number, over: Partial<NetShape> = {}) => netSize({ variant: 'residual', depth, width: 16, shortcut: 'A', ...over }).params;
    // 2015, Table 6 (ResNet-1202: 19.4M) and 2016, Table 2 (preact bottleneck, option B: 1.7M and 10.2M; see parameters.test.ts).
    assert.equal(cifar(110), 1_727_962);
    assert.equal(Number(cifar(1202).toPrecision(3)), 19.4e6);
    assert.equal(cifar(164, { variant: 'preact', block: 'bottleneck', shortcut: 'B' }), 1_704_154);
    assert.equal(cifar(1001, { variant: 'preact', block: 'bottleneck', shortcut: 'B' }), 10_328_602);
    // torchvision's counts at 224x224 and 1000 classes, option B.
    const imagenet = (depth: number, block: 'basic' | 'bottleneck') =>
      netSize({ variant: 'residual', depth, width: 64, shortcut: 'B', family: 'imagenet', block }, 1000, { height: 224, width: 224 });
    assert.deepEqual(
      [[18, 'basic'], [34, 'basic'], [50, 'bottleneck'], [101, 'bottleneck'], [152, 'bottleneck']].map(([d, b]) => imagenet(d as number, b as 'basic').params),
      [11_689_512, 21_797_672, 25_557_032, 44_549_160, 60_192_808],
    );
    assert.equal(Number((imagenet(152, 'bottleneck').macs / 1e9).toFixed(1)), 11.3);
  });
});
