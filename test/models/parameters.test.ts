import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildNetwork, totalCost, type NetworkSpec } from '../../src/models/index.js';

// Only Node and TF.js's pure-JS cpu backend: no native addon, no wasm. Parameters don't depend on the input
// size (the net ends in a global average pool), so an 8x8 input keeps building ResNet-110 quick.
before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Trainable values held by the built network (BN moving statistics are state, not parameters). */
export function parameterCount(spec: NetworkSpec): { held: number; recorded: number } {
  const net = buildNetwork({ ...spec, input: { height: 8, width: 8 } }, 1);
  const held = net.params.trainable().reduce((n, p) => n + p.variable.size, 0);
  net.params.dispose();
  return { held, recorded: totalCost(net.costs).params };
}

/** The `depth n parameters` rows of a module comment's table. */
function commentTable(file: string): Map<number, number> {
  const text = readFileSync(join(root, file), 'utf8');
  const comment = text.slice(0, text.indexOf('export function cifarNet'));
  const rows = [...comment.matchAll(/^\s*\*\s+(\d+)\s+(\d+)\s+([\d,]+)\s*$/gm)];
  return new Map(rows.map((r) => [Number(r[1]), Number(r[3].replaceAll(',', ''))]));
}

const cifar = (depth: number, over: Partial<NetworkSpec> = {}): NetworkSpec => ({ variant: 'residual', depth, width: 16, shortcut: 'A', ...over });

describe('CIFAR-10 ResNets: the exact parameter table (He et al. 2015, Table 6)', () => {
  // 432 + 32 (stem conv, BN) + Σ blocks (9·c_in·c_out + 9·c_out² + 4·c_out) + 650 (classifier); Table 6 rounds
  // them to 0.27M, 0.46M, 0.66M, 0.85M, 1.7M.
  const TABLE = new Map([
    [20, 269_722],
    [32, 464_154],
    [44, 658_586],
    [56, 853_018],
    [110, 1_727_962],
  ]);

  it('is what the networks hold, for residual and plain twins alike', () => {
    for (const [depth, params] of TABLE) {
      for (const variant of ['residual', 'plain'] as const) {
        const count = parameterCount(cifar(depth, { variant }));
        assert.equal(count.held, params, `${variant}-${depth}`);
        assert.equal(count.recorded, params, `${variant}-${depth}: the costs describe records`);
      }
    }
  });

  it('is the table in network.ts\'s module comment', () => {
    assert.deepEqual(commentTable('src/models/network.ts'), new Map([...TABLE, ...BOTTLENECK_TABLE]));
  });
});

// Pre-activation bottleneck nets, option B (He et al. 2016, Table 2: 1.7M and 10.2M). The authors' code
// (KaimingHe/resnet-1k-layers, resnet-pre-act.lua; counted with PyTorch) has 1,703,258 and 10,327,706: the same
// layers except that its three projections have no BN, where ours have one of 2·(64 + 128 + 256) = 896 values.
const BOTTLENECK_TABLE = new Map([
  [164, 1_704_154],
  [1001, 10_328_602],
]);
const AUTHORS_CODE = new Map([
  [164, 1_703_258],
  [1001, 10_327_706],
]);

describe('bottleneck nets (He et al. 2016): exact counts', () => {
  it('preact-164 and preact-1001 with option B: the authors\' counts plus the projections\' BN', () => {
    for (const [depth, params] of BOTTLENECK_TABLE) {
      const net = buildNetwork({ ...cifar(depth, { variant: 'preact', block: 'bottleneck', shortcut: 'B' }), input: { height: 8, width: 8 } }, 1);
      const held = net.params.trainable().reduce((n, p) => n + p.variable.size, 0);
      const projectionBn = net.costs.filter((c) => /\.shortcut\.bn$/.test(c.layer)).reduce((n, c) => n + c.params, 0);
      assert.equal(net.costs.filter((c) => c.kind === 'conv' || c.kind === 'dense').length, depth, 'weighted layers: 9n+2');
      net.params.dispose();
      assert.equal(held, params, `preact-${depth}`);
      assert.equal(projectionBn, 896);
      assert.equal(held - projectionBn, AUTHORS_CODE.get(depth), `preact-${depth} without the projections' BN`);
    }
  });

  it('residual and plain ResNet-164 (option B): plain lacks only the three projections', () => {
    // The original unit has BN after each conv (bn3 on 4·width channels) and a stem BN, pre-activation units
    // BN before each conv and a final BN: over the whole net both come to the same count.
    assert.equal(parameterCount(cifar(164, { block: 'bottleneck', shortcut: 'B' })).held, 1_704_154);
    // (16·64 + 2·64) + (64·128 + 2·128) + (128·256 + 2·256) = 42,880.
    assert.equal(parameterCount(cifar(164, { variant: 'plain', block: 'bottleneck', shortcut: 'B' })).held, 1_704_154 - 42_880);
  });
});

describe('ResNet-20 by shortcut option (He et al. 2015, section 3.3, Table 3)', () => {
  // From option A's 269,722: B adds a 1x1 projection with BN where dimensions change, 16→32 and 32→64:
  // (16·32 + 2·32) + (32·64 + 2·64) = 2,752. C projects on all nine blocks: 3·(16·16 + 2·16) + (16·32 + 2·32)
  // + 2·(32·32 + 2·32) + (32·64 + 2·64) + 2·(64·64 + 2·64) = 14,240. conv3x3-bn: (9·16·32 + 2·32) + (9·32·64 + 2·64)
  // = 23,232.
  const OPTIONS = { A: 269_722, B: 272_474, C: 283_962, 'conv3x3-bn': 292_954 } as const;
  for (const [option, params] of Object.entries(OPTIONS)) {
    it(`option ${option}: ${params.toLocaleString('en-US')}`, () => {
      const count = parameterCount(cifar(20, { shortcut: option as keyof typeof OPTIONS }));
      assert.equal(count.held, params);
      assert.equal(count.recorded, params);
    });
  }
});

describe('ResNet-20 by unit (He et al. 2016, Fig. 2 and 4), option A', () => {
  // Moving a BN (pre-activation, BN after addition) keeps the count here: preact loses the stem BN (−32) and has
  // BN on the blocks' inputs (−32 and −64 where stages widen) but adds the final BN (+128). The gates add a 1x1
  // conv with bias per block: 3·(16·16 + 16) + (16·32 + 32) + 2·(32·32 + 32) + (32·64 + 64) + 2·(64·64 + 64)
  // = 13,904. The 1x1 conv shortcut is option C.
  const UNITS = {
    plain: 269_722,
    residual: 269_722,
    preact: 269_722,
    'constant-scaling': 269_722,
    'exclusive-gating': 283_626,
    'shortcut-gating': 283_626,
    'conv-shortcut': 283_962,
    'dropout-shortcut': 269_722,
    'bn-after-add': 269_722,
    'relu-before-add': 269_722,
    'relu-preact': 269_722,
  } as const;
  for (const [variant, params] of Object.entries(UNITS)) {
    it(`${variant}: ${params.toLocaleString('en-US')}`, () => {
      const count = parameterCount(cifar(20, { variant: variant as keyof typeof UNITS }));
      assert.equal(count.held, params);
      assert.equal(count.recorded, params);
    });
  }
});

describe('ImageNet nets (He et al. 2015, Table 1) at 224x224 and 1000 classes, option B', () => {
  // torchvision's counts; multiply-adds with the stride on a bottleneck's first 1x1 conv, as the paper has it.
  const TABLE = [
    { depth: 18, block: 'basic', params: 11_689_512, gmacs: 1.8 },
    { depth: 34, block: 'basic', params: 21_797_672, gmacs: 3.6 },
    { depth: 50, block: 'bottleneck', params: 25_557_032, gmacs: 3.8 },
    { depth: 101, block: 'bottleneck', params: 44_549_160, gmacs: 7.6 },
    { depth: 152, block: 'bottleneck', params: 60_192_808, gmacs: 11.3 },
  ] as const;

  for (const row of TABLE) {
    it(`ResNet-${row.depth}: ${row.params.toLocaleString('en-US')} parameters, ${row.gmacs}G multiply-adds within 5%`, () => {
      // Built on 32x32 (every map 1/7 of 224's on each side): each conv's multiply-adds are 1/49 of those at 224,
      // the classifier's the same, so the 224 figure follows exactly without a 224 forward pass in pure JS.
      const spec = { variant: 'residual', depth: row.depth, width: 64, shortcut: 'B', family: 'imagenet', block: row.block, classes: 1000, input: { height: 32, width: 32 } } as const;
      const net = buildNetwork(spec, 1);
      const held = net.params.trainable().reduce((n, p) => n + p.variable.size, 0);
      const macs224 = net.costs.reduce((m, c) => m + (c.kind === 'dense' ? c.macs : 49 * c.macs), 0);
      const layers = net.costs.filter((c) => c.kind === 'conv' || c.kind === 'dense').length;
      const projections = net.costs.filter((c) => c.layer.endsWith('.shortcut.conv') || c.layer.endsWith('.shortcut.bn')).reduce((n, c) => n + c.params, 0);
      net.params.dispose();
      assert.equal(held, row.params);
      assert.equal(totalCost(net.costs).params, row.params);
      assert.equal(layers, row.depth, 'weighted layers');
      assert.ok(Math.abs(macs224 / 1e9 / row.gmacs - 1) < 0.05, `${(macs224 / 1e9).toFixed(2)}G vs ${row.gmacs}G`);
      // The plain twin: the same layers without shortcuts, so without the projections.
      assert.equal(parameterCount({ ...spec, variant: 'plain' }).held, row.params - projections);
    });
  }
});
