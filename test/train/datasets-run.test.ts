import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { cifar100Records, writeImage } from '../data/fixtures.js';
import { runInProcess, withTempDir } from '../helpers/cli.js';

type Row = Record<string, string>;
const readCsv = (path: string): Row[] => parse(readFileSync(path, 'utf8'), { columns: true }) as Row[];
const withoutTiming = (rows: Row[]) => rows.map(({ images_per_sec: _i, wall_seconds: _w, ...rest }) => rest);
const runConfig = (out: string) => JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { run: { classes: number; input: number[]; data: string[] } };

/** A few steps of depth-8, width-4 nets on wasm: enough to show the data reaches training. */
const tiny = (out: string, ...extra: string[]): string[] => [
  'run', 'configs/smoke.json',
  '--set', 'train.batchSize=6', '--set', 'log.every=2', '--set', 'eval.every=4', '--set', 'model.width=4',
  '--depth', '8', '--iterations', '4', '--backend', 'wasm', '--out', out, ...extra,
];

interface DescribeRow {
  variant: string;
  params: number;
  macs: number;
  classes: number;
  input: number[];
}
const describeJson = async (...args: string[]): Promise<DescribeRow[]> => {
  const r = await runInProcess(['describe', '--depth', '8', '--set', 'model.variants=["plain"]', '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as DescribeRow[];
};

/** Three classes of 20×16 images whose colour says the class, with per-image noise; PNG and JPEG mixed. */
async function imageFolder(root: string): Promise<void> {
  const base = [[200, 40, 40], [40, 200, 40], [40, 40, 200]];
  for (const [split, count] of [['train', 6], ['val', 2]] as const) {
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < count; i++) {
        const noise = (x: number, y: number) => ((x * 31 + y * 17 + i * 7 + c) % 23) - 11;
        await writeImage(join(root, split, `class${c}`, `${i}.${i % 2 ? 'jpg' : 'png'}`), {
          width: 20,
          height: 16,
          format: i % 2 ? 'jpeg' : 'png',
          pixel: (x, y) => base[c].map((v) => v + noise(x, y)),
        });
      }
    }
  }
}

describe('run on the other data sets (wasm, a few steps)', () => {
  it('imagefolder: trains on crop-sized inputs with a 3-class classifier; the second run reads the cache and matches', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'folder');
      await imageFolder(root);
      const folderArgs = ['--set', 'data.source=imagefolder', '--data-dir', root, '--set', 'data.imagefolder.size=16', '--set', 'data.imagefolder.crop=12'];

      const first = await runInProcess(tiny(join(dir, 'a'), ...folderArgs));
      assert.equal(first.code, 0, first.stderr);
      const recorded = runConfig(join(dir, 'a'));
      assert.deepEqual([recorded.run.classes, recorded.run.input], [3, [12, 12]]);
      assert.match(recorded.run.data[0], /\.resnet-exp-cache\/train-16px-[0-9a-f]{16}\.bin$/);
      // Data is read before the run folder exists: the narration is on stderr.
      assert.ok(first.stderr.includes(`decoding 18 images of ${join(root, 'train')}`), first.stderr);
      const rows = readCsv(join(dir, 'a', 'metrics.csv'));
      assert.deepEqual(rows.map((r) => `${r.variant}:${r.step}:${r.test_error !== ''}`), ['plain:2:false', 'residual:2:false', 'plain:4:true', 'residual:4:true']);
      for (const r of rows) assert.ok(Number.isFinite(Number(r.train_loss)), JSON.stringify(r));

      // Bad input and the network description (in-process calls run one after another, in this order).
      const broken = join(dir, 'broken');
      await imageFolder(broken);
      writeFileSync(join(broken, 'val', 'class1', '1.jpg'), 'not a JPEG');
      const [second, bad, described, cifar] = await Promise.all([
        runInProcess(tiny(join(dir, 'b'), ...folderArgs)),
        runInProcess(tiny(join(dir, 'c'), '--set', 'data.source=imagefolder', '--data-dir', broken, '--set', 'data.imagefolder.size=16', '--set', 'data.imagefolder.crop=12', '--quiet')),
        describeJson('--set', 'model.width=4', ...folderArgs),
        describeJson('--set', 'model.width=4'),
      ]);
      assert.equal(second.code, 0, second.stderr);
      assert.doesNotMatch(second.stderr, /decoding/, 'the second run decoded again');
      assert.deepEqual(withoutTiming(readCsv(join(dir, 'b', 'metrics.csv'))), withoutTiming(rows));

      assert.equal(bad.code, 2);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      assert.match(bad.stderr, new RegExp(`cannot decode image ${join(broken, 'val', 'class1', '1.jpg')}: `));

      // Width 4: 16 features into the classifier. 3 classes instead of 10, and every conv sees 12x12 instead of 32x32.
      assert.deepEqual([described[0].classes, described[0].input, cifar[0].classes, cifar[0].input], [3, [12, 12], 10, [32, 32]]);
      assert.equal(described[0].params - cifar[0].params, 17 * (3 - 10));
      assert.equal((described[0].macs - 16 * 3) * 1024, (cifar[0].macs - 16 * 10) * 144);
    });
  });

  it('cifar100: coarse labels give a 20-class net and train; a bad label byte is exit 2 naming the file and record', async () => {
    await withTempDir(async (dir) => {
      const data = join(dir, 'c100');
      const records = (n: number, first: number) => Array.from({ length: n }, (_, i) => [(i * 7 + first) % 20, (i * 13 + first) % 100] as const);
      mkdirSync(data);
      writeFileSync(join(data, 'train.bin'), cifar100Records(records(24, 0), 0));
      writeFileSync(join(data, 'test.bin'), cifar100Records(records(6, 3), 100));
      const bad = join(dir, 'bad');
      mkdirSync(bad);
      const corrupt = cifar100Records(records(24, 0), 0);
      corrupt[5 * 3074] = 20;
      writeFileSync(join(bad, 'train.bin'), corrupt);
      writeFileSync(join(bad, 'test.bin'), cifar100Records(records(6, 3), 100));

      const source = ['--set', 'data.source=cifar100', '--set', 'data.cifar100.labels=coarse'];
      const [run, refused, fine, ten] = await Promise.all([
        runInProcess(tiny(join(dir, 'a'), ...source, '--data-dir', data)),
        runInProcess(tiny(join(dir, 'b'), ...source, '--data-dir', bad)),
        describeJson('--set', 'data.source=cifar100'),
        describeJson(),
      ]);
      assert.equal(run.code, 0, run.stderr);
      const recorded = runConfig(join(dir, 'a'));
      assert.deepEqual([recorded.run.classes, recorded.run.input, recorded.run.data], [20, [32, 32], [join(data, 'train.bin'), join(data, 'test.bin')]]);
      assert.equal(readCsv(join(dir, 'a', 'metrics.csv')).length, 4);

      assert.equal(refused.code, 2);
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
      assert.match(refused.stderr, new RegExp(`CIFAR-100 file ${join(bad, 'train.bin')} record 5 has coarse label 20, outside 0-19`));

      // Width 16: 64 features; fine labels add 90 outputs to CIFAR-10's classifier.
      assert.deepEqual([fine[0].classes, fine[0].input], [100, [32, 32]]);
      assert.equal(fine[0].params - ten[0].params, 65 * 90);
    });
  });
});
