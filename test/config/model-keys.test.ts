import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configSchema, loadConfig, parseSet } from '../../src/config/index.js';

const errorsOf = (...sets: string[]): string[] => {
  const result = loadConfig({ cwd: '/', overrides: sets.map(parseSet) });
  assert.equal(result.ok, false, `expected ${sets.join(' ')} to be rejected`);
  return result.ok ? [] : result.error;
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('model keys: blocks, shortcuts, the 2016 ablations', () => {
  it('defaults to basic blocks, option A and the 2016 paper\'s ablation constants', () => {
    const m = configSchema.parse({}).model;
    assert.equal(m.block, 'basic');
    assert.equal(m.shortcut, 'A');
    assert.deepEqual(m.ablation, { shortcutScale: 0.5, residualScale: 0.5, gateBias: -6, dropout: 0.5 });
  });

  it('depth is 6n+2 with basic blocks and 9n+2 with bottlenecks, each problem on its own line', () => {
    assert.equal(configSchema.parse({ model: { depth: 1001, block: 'bottleneck' } }).model.depth, 1001);
    assert.equal(configSchema.parse({ model: { depth: 164 } }).model.depth, 164);
    assert.deepEqual(errorsOf('model.depth=1001'), ['model.depth: must be 6n+2 such as 20, 32, 44, 56, 110, or set model.block to bottleneck (9n+2) (got 1001)']);
    assert.deepEqual(errorsOf('model.block=bottleneck', 'model.depths=[164,32]'), [
      'model.depths.1: must be 9n+2 with bottleneck blocks, such as 164, 1001 (got 32)',
    ]);
    // The depth rule still speaks when another model key is wrong.
    assert.deepEqual(errorsOf('model.depth=54', 'model.shortcut=D').length, 2);
  });

  it('the imagenet family takes the depths of the 2015 paper\'s Table 1, each with its block', () => {
    assert.equal(configSchema.parse({ model: { family: 'imagenet', depths: [18, 34] } }).model.family, 'imagenet');
    assert.equal(configSchema.parse({ model: { family: 'imagenet', depth: 152, block: 'bottleneck' } }).model.depth, 152);
    assert.deepEqual(errorsOf('model.family=imagenet', 'model.depth=50'), [
      'model.depth: must be 18, 34 with basic blocks in the imagenet family; 50 takes model.block bottleneck (got 50)',
    ]);
    assert.deepEqual(errorsOf('model.family=imagenet', 'model.block=bottleneck', 'model.depth=20'), [
      'model.depth: must be 50, 101, 152 with bottleneck blocks in the imagenet family (got 20)',
    ]);
  });

  it('bounds bottleneck and imagenet nets by their own parameters and feature maps', () => {
    assert.deepEqual(errorsOf('model.family=imagenet', 'model.block=bottleneck', 'model.depth=152', 'model.width=256'), [
      'model.width: plain-152 at this width has 884M parameters, over the limit of 500M: lower the width or the depth (got 256)',
    ]);
    // A bottleneck's output has 4x the stage's width at 32x32; basic blocks of the same width fit.
    assert.deepEqual(errorsOf('model.block=bottleneck', 'model.depth=164', 'model.width=32', 'train.batchSize=50000'), [
      'train.batchSize: 50000 images at model.width 32 make a feature map of 6.55e+9 values, more than one TF.js tensor can hold (2^32): set train.microBatch (got 50000)',
    ]);
    assert.ok(loadConfig({ cwd: '/', overrides: ['model.depth=164', 'model.width=32', 'train.batchSize=50000'].map(parseSet) }).ok);
    // An imagenet stem on 224x224 crops: 112x112x64 values per image, not CIFAR's 32x32xwidth.
    const folder = ['model.family=imagenet', 'model.depth=18', 'model.width=64', 'data.source=imagefolder', 'data.dir=/x', 'data.imagefolder.size=256', 'data.imagefolder.crop=224'];
    assert.deepEqual(errorsOf(...folder, 'eval.batchSize=10000'), [
      'eval.batchSize: 10000 images at model.width 64 (224x224 input) make a feature map of 8.03e+9 values, more than one TF.js tensor can hold (2^32) (got 10000)',
    ]);
    assert.ok(loadConfig({ cwd: '/', overrides: [...folder, 'eval.batchSize=5000'].map(parseSet) }).ok);
  });

  it('takes every shortcut option and every unit, and bounds the ablation constants', () => {
    for (const shortcut of ['A', 'B', 'C', 'conv3x3-bn']) assert.equal(configSchema.parse({ model: { shortcut } }).model.shortcut, shortcut);
    const variants = ['constant-scaling', 'exclusive-gating', 'shortcut-gating', 'conv-shortcut', 'dropout-shortcut', 'bn-after-add', 'relu-before-add', 'relu-preact'];
    assert.deepEqual(configSchema.parse({ model: { variants } }).model.variants, variants);
    assert.match(errorsOf('model.ablation.dropout=1')[0], /^model\.ablation\.dropout: /);
    assert.match(errorsOf('model.ablation.gate=1')[0], /^model\.ablation\.gate: unknown key/);
    assert.match(errorsOf('model.shortcut=D')[0], /^model\.shortcut: /);
  });

  it('every shipped config is valid', () => {
    const dir = join(root, 'configs');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const parsed = configSchema.safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      assert.ok(parsed.success, `${file}: ${parsed.success ? '' : parsed.error.message}`);
    }
  });
});
