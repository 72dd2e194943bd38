import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configSchema, loadConfig, parseSet, shorthandOverrides, type Config } from '../../src/config/index.js';
import { runInProcess, withTempDir } from '../helpers/cli.js';

const load = (sources: Parameters<typeof loadConfig>[0]): Config => {
  const result = loadConfig(sources);
  if (!result.ok) assert.fail(result.error.join('\n'));
  return result.value;
};

const errorsOf = (sources: Parameters<typeof loadConfig>[0]): string[] => {
  const result = loadConfig(sources);
  assert.equal(result.ok, false, 'expected the config to be rejected');
  return result.ok ? [] : result.error;
};

describe('config defaults', () => {
  it('an empty config is the paper\'s ResNet-20 comparison (He et al. 2015, section 4.2)', () => {
    const c = configSchema.parse({});
    assert.equal(c.model.depth, 20);
    assert.deepEqual(c.model.variants, ['plain', 'residual']);
    assert.equal(c.model.shortcut, 'A');
    assert.equal(c.model.width, 16);
    assert.equal(c.train.batchSize, 128);
    assert.equal(c.train.iterations, 64000);
    assert.equal(c.train.lr, 0.1);
    assert.equal(c.train.momentum, 0.9);
    assert.equal(c.train.weightDecay, 1e-4);
    assert.deepEqual(c.train.milestones, [32000, 48000]);
    assert.equal(c.train.gamma, 0.1);
    assert.deepEqual(c.data.augment, { crop: true, flip: true });
    assert.equal(c.data.validation, 'test');
    assert.equal(c.backend, 'auto');
  });
});

describe('overrides', () => {
  it('--set parses JSON values and keeps other text as strings', () => {
    assert.deepEqual(parseSet('train.lr=0.05'), { path: ['train', 'lr'], value: 0.05 });
    assert.deepEqual(parseSet('model.variants=["plain"]'), { path: ['model', 'variants'], value: ['plain'] });
    assert.deepEqual(parseSet('name=my-run'), { path: ['name'], value: 'my-run' });
    assert.deepEqual(parseSet('data.augment.flip=false'), { path: ['data', 'augment', 'flip'], value: false });
    assert.throws(() => parseSet('novalue'), /expected key.path=value/);
    assert.throws(() => parseSet('a..b=1'), /empty key/);
  });

  it('flags override the file, last one wins, and a single --depth replaces a depths list', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'c.yaml');
      await writeFile(file, 'model:\n  depths: [20, 56]\ntrain:\n  lr: 0.2\n');
      const c = load({
        file,
        overrides: [parseSet('train.lr=0.3'), parseSet('train.lr=0.4'), ...shorthandOverrides({ depth: '32', iterations: 10 })],
      });
      assert.equal(c.train.lr, 0.4);
      assert.equal(c.train.iterations, 10);
      assert.equal(c.model.depth, 32);
      assert.equal(c.model.depths, undefined);
      const several = load({ file, overrides: shorthandOverrides({ depth: '20,44' }) });
      assert.deepEqual(several.model.depths, [20, 44]);
    });
  });

  it('data.dir: flag over RESNET_EXP_DATA over the file; file paths relative to the file, flag paths to cwd', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'sub', 'c.json');
      await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'sub')));
      await writeFile(file, JSON.stringify({ data: { dir: '../cifar' }, out: 'runs/x' }));
      const fromFile = load({ file, cwd: '/somewhere' });
      assert.equal(fromFile.data.dir, join(dir, 'cifar'));
      assert.equal(fromFile.out, join(dir, 'sub', 'runs', 'x'));
      const fromEnv = load({ file, cwd: '/somewhere', dataDirEnv: 'env-data' });
      assert.equal(fromEnv.data.dir, '/somewhere/env-data');
      const fromFlag = load({ file, cwd: '/somewhere', dataDirEnv: 'env-data', overrides: shorthandOverrides({ dataDir: 'flag-data', out: 'o' }) });
      assert.equal(fromFlag.data.dir, '/somewhere/flag-data');
      assert.equal(fromFlag.out, '/somewhere/o');
    });
  });
});

describe('data sources', () => {
  it('cifar100 trains on fine labels unless told coarse; image folders store 64 and crop 56 by default', () => {
    const c = configSchema.parse({ data: { source: 'cifar100' } });
    assert.equal(c.data.cifar100.labels, 'fine');
    assert.equal(configSchema.parse({ data: { source: 'cifar100', cifar100: { labels: 'coarse' } } }).data.cifar100.labels, 'coarse');
    const f = configSchema.parse({ data: { source: 'imagefolder', dir: '/d' } }).data.imagefolder;
    assert.deepEqual(f, { size: 64, crop: 56, scale: [0.08, 1], ratio: [3 / 4, 4 / 3] });
  });

  it('an image folder needs a dir, validates on val/, and crops within its stored size', () => {
    const errorOf = (...sets: string[]): string => {
      const errors = errorsOf({ overrides: sets.map(parseSet) });
      assert.equal(errors.length, 1, errors.join('\n'));
      return errors[0];
    };
    assert.match(errorOf('data.source=imagefolder'), /^data\.dir: is required with source imagefolder/);
    assert.match(errorOf('data.source=imagefolder', 'data.dir=d', 'data.validation=split45k'), /^data\.validation: must be test with source imagefolder/);
    assert.match(errorOf('data.imagefolder.crop=80'), /^data\.imagefolder\.crop: must be at most size \(64\)/);
    assert.match(errorOf('data.imagefolder.scale=[0.5,0.2]'), /^data\.imagefolder\.scale: must be \[min, max\]/);
    assert.match(errorOf('data.cifar100.labels=medium'), /^data\.cifar100\.labels: .*"medium"/);
  });

  it('RESNET_EXP_DATA names a CIFAR-10 folder: a CIFAR-100 or image-folder config keeps its own dir', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'c.json');
      await writeFile(file, JSON.stringify({ data: { source: 'cifar100', dir: 'c100' } }));
      assert.equal(load({ file, cwd: '/cwd', dataDirEnv: '/cifar10' }).data.dir, join(dir, 'c100'));
      // Switched back to CIFAR-10 on the command line, the variable applies again.
      assert.equal(load({ file, cwd: '/cwd', dataDirEnv: '/cifar10', overrides: [parseSet('data.source=cifar10')] }).data.dir, '/cifar10');
      assert.equal(load({ cwd: '/cwd', dataDirEnv: '/cifar10', overrides: [parseSet('data.source=imagefolder'), parseSet('data.dir=f')] }).data.dir, '/cwd/f');
    });
  });
});

describe('config errors', () => {
  it('names the key, the problem and the value given, one line each', () => {
    const errors = errorsOf({ overrides: [parseSet('model.depth=54'), parseSet('train.lr=-1'), parseSet('model.variants=["plain","resnet"]')] });
    assert.ok(errors.includes('model.depth: must be 6n+2 such as 20, 32, 44, 56, 110 (got 54)'), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('train.lr: ') && e.endsWith('(got -1)')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('model.variants.1: ') && e.includes('"resnet"')), errors.join('\n'));
    assert.equal(errors.length, 3);
  });

  it('rejects unknown keys, so typos are not silently ignored', () => {
    assert.deepEqual(errorsOf({ overrides: [parseSet('train.learningRate=0.1'), parseSet('modle.depth=20')] }).sort(), [
      'modle: unknown key',
      'train.learningRate: unknown key',
    ]);
  });

  it('bounds sizes in the schema: depth, width, parameters, images per batch, one tensor; exit-2 lines naming the limit', () => {
    const only = (sets: string[]) => errorsOf({ overrides: sets.map(parseSet) });
    // --depth 6000002 ground for minutes at 7 GB; model.width=100000 died with "Invalid typed array length".
    assert.deepEqual(only(['model.depth=6000002']), ['model.depth: must be at most 2000 (ResNet-1202 is the deepest CIFAR net of the paper) (got 6000002)']);
    assert.deepEqual(only(['model.width=100000']), ['model.width: must be at most 1024 (got 100000)']);
    assert.deepEqual(only(['model.width=1024']), ['model.width: plain-20 at this width has 1095M parameters, over the limit of 500M: lower the width or the depth (got 1024)']);
    assert.deepEqual(only(['train.batchSize=60000']), ['train.batchSize: must be at most 50000 (a batch cannot hold more images than the CIFAR-10 training set) (got 60000)']);
    assert.match(only(['train.batchSize=50000', 'model.width=128']).join('\n'), /^train\.batchSize: 50000 images at model\.width 128 make a feature map of 6\.55e\+9 values, more than one TF\.js tensor can hold \(2\^32\): set train\.microBatch/);
    assert.match(only(['eval.batchSize=20000']).join('\n'), /^eval\.batchSize: must be at most 10000/);
    assert.match(only(['data.synthetic.train=1000000']).join('\n'), /^data\.synthetic\.train: must be at most 50000/);
    // What the papers train stays valid: ResNet-1202, the deepest 6n+2 allowed, a wide net, a big micro-batched batch.
    for (const sets of [['model.depth=1202'], ['model.depth=2000'], ['model.width=160', 'model.depth=26'], ['model.width=1024', 'model.depth=8'], ['train.batchSize=50000', 'model.width=128', 'train.microBatch=500']]) {
      const loaded = loadConfig({ overrides: sets.map(parseSet) });
      assert.ok(loaded.ok, `${sets.join(' ')}: ${loaded.ok ? '' : loaded.error.join('; ')}`);
    }
  });

  it('a network, depth or seed listed twice is an error (it would write the same rows twice)', () => {
    assert.deepEqual(errorsOf({ overrides: [parseSet('model.depths=[20,56,20]')] }), ['model.depths.2: depth 20 is listed twice (got 20)']);
    assert.deepEqual(errorsOf({ overrides: [parseSet('model.variants=["plain","residual","plain"]')] }), ['model.variants.2: variant "plain" is listed twice (got "plain")']);
    assert.deepEqual(errorsOf({ overrides: [parseSet('seeds=[1,2,1]')] }), ['seeds.2: seed 1 is listed twice (got 1)']);
  });

  it('a batch larger than the training images the config allows is an error', () => {
    assert.deepEqual(errorsOf({ overrides: [parseSet('data.source=synthetic'), parseSet('data.synthetic.train=100')] }), [
      'train.batchSize: must be at most the 100 training images (data.synthetic.train): a batch would hold an image twice (got 128)',
    ]);
    assert.deepEqual(errorsOf({ overrides: [parseSet('data.trainLimit=64'), parseSet('train.batchSize=100')] }), [
      'train.batchSize: must be at most the 64 training images (data.trainLimit): a batch would hold an image twice (got 100)',
    ]);
    assert.equal(load({ overrides: [parseSet('data.trainLimit=128')] }).train.batchSize, 128);
  });

  it('checks milestones and micro-batches against the rest of the config', () => {
    const errors = errorsOf({ overrides: [parseSet('train.milestones=[100,50]'), parseSet('train.microBatch=48')] });
    assert.ok(errors.some((e) => e.startsWith('train.milestones.1: must be increasing')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('train.microBatch: must divide train.batchSize (128)')), errors.join('\n'));
  });

  it('YAML and JSON syntax errors name file, line and column', async () => {
    await withTempDir(async (dir) => {
      const yamlFile = join(dir, 'bad.yaml');
      await writeFile(yamlFile, 'model:\n  depth: 20\n   width: [16\n');
      const [yamlError] = errorsOf({ file: yamlFile });
      assert.match(yamlError, new RegExp(`^${yamlFile}:\\d+:\\d+: `));
      const jsonFile = join(dir, 'bad.json');
      await writeFile(jsonFile, '{\n  "model": { "depth": 20 },\n  "train": { "lr": 0.1 ]\n}\n');
      const [jsonError] = errorsOf({ file: jsonFile });
      assert.match(jsonError, new RegExp(`^${jsonFile}:3:\\d+: `));
    });
  });

  it('refuses YAML tags instead of constructing anything from them', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'tag.yaml');
      await writeFile(file, 'name: !!js/function "function(){ return 1 }"\n');
      const [error] = errorsOf({ file });
      assert.match(error, /tag/i);
    });
  });

  it('refuses any tag, even the core ones that build other types (!!omap, !!set, !!int), naming file and line', async () => {
    await withTempDir(async (dir) => {
      // !!omap made a Map whose keys the schema never saw: iterations 10 was dropped for the 64k default.
      for (const [text, tag] of [['train: !!omap [ {iterations: 10} ]\n', '!!omap'], ['seed: 2\nmodel: !!set { ? depth }\n', '!!set'], ['seed: !!int "5"\n', '!!int']]) {
        const file = join(dir, 'tagged.yaml');
        await writeFile(file, text);
        const errors = errorsOf({ file });
        assert.equal(errors.length, 1, errors.join('\n'));
        assert.match(errors[0], new RegExp(`^${file}:${text.split('\n').findIndex((l) => l.includes(tag)) + 1}:\\d+: YAML tag ${tag} is not allowed`));
      }
    });
  });

  it('bounds alias expansion: a "billion laughs" file is one error naming it; a modest alias is fine', async () => {
    await withTempDir(async (dir) => {
      const bomb = join(dir, 'bomb.yaml');
      const level = (name: string, of: string) => `${name}: &${name} [${Array(9).fill(of).join(', ')}]`;
      const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
      await writeFile(bomb, [level('a', '"x"'), ...names.slice(1).map((n, i) => level(n, `*${names[i]}`))].join('\n') + '\n');
      const errors = errorsOf({ file: bomb });
      assert.equal(errors.length, 1);
      assert.match(errors[0], new RegExp(`^${bomb}: YAML aliases expand too far`));

      const shared = join(dir, 'shared.yaml');
      await writeFile(shared, 'train:\n  milestones: &m [100, 150]\n  iterations: 200\n');
      assert.deepEqual(load({ file: shared }).train.milestones, [100, 150]);
    });
  });

  it('an empty config file is an error naming it, not the 64k-iteration default run; {} asks for the defaults', async () => {
    await withTempDir(async (dir) => {
      for (const text of ['', '\n\n', '# just a comment\n', '---\n']) {
        const file = join(dir, 'empty.yaml');
        await writeFile(file, text);
        assert.deepEqual(errorsOf({ file }), [`${file}: the config file is empty (write {} for all defaults)`], JSON.stringify(text));
      }
      const braces = join(dir, 'defaults.json');
      await writeFile(braces, '{}\n');
      assert.equal(load({ file: braces }).train.iterations, 64000);
    });
  });

  it('a missing config file is one line naming it', () => {
    assert.deepEqual(errorsOf({ file: 'does-not-exist.json', cwd: '/tmp' }), ['does-not-exist.json: cannot read config (no such file)']);
  });
});

describe('resnet-exp validate', () => {
  it('prints the resolved config as JSON on stdout, exit 0', async () => {
    const r = await runInProcess(['validate', 'configs/cifar56.json', '--set', 'train.lr=0.05', '--seed', '7']);
    assert.equal(r.code, 0, r.stderr);
    const config = JSON.parse(r.stdout) as Config;
    assert.equal(config.model.depth, 56);
    assert.equal(config.train.lr, 0.05);
    assert.equal(config.seed, 7);
  });

  it('exit 2 and one line per problem on stderr, nothing on stdout', async () => {
    const r = await runInProcess(['validate', 'configs/cifar56.json', '--depth', '54', '--set', 'train.bogus=1']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.deepEqual(lines.sort(), [
      'resnet-exp: error: configs/cifar56.json: model.depth: must be 6n+2 such as 20, 32, 44, 56, 110 (got 54)',
      'resnet-exp: error: configs/cifar56.json: train.bogus: unknown key',
    ]);
  });
});
