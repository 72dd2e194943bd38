import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadCifar100 } from '../../src/data/cifar.js';
import type { ImageSet } from '../../src/data/image-set.js';
import { cifar100Records, pixel, withTempDir, writeFiles } from './fixtures.js';

const at = (set: ImageSet, i: number, y: number, x: number, c: number): number => set.images[i * 3072 + (y * 32 + x) * 3 + c];

/** 4 training records (numbered 0..3), 2 test records (numbered 100..), label names as in the release. */
async function fixture(dir: string): Promise<void> {
  await writeFiles(dir, {
    'train.bin': cifar100Records([[4, 30], [19, 99], [0, 0], [7, 55]], 0),
    'test.bin': cifar100Records([[11, 12], [3, 71]], 100),
    'fine_label_names.txt': new TextEncoder().encode('apple\naquarium_fish\n'),
    'coarse_label_names.txt': new TextEncoder().encode('aquatic_mammals\nfish\n'),
  });
}

describe('loadCifar100', () => {
  it('fine labels: the second byte; pixels exactly; 100 classes', async () => {
    await withTempDir(async (dir) => {
      await fixture(dir);
      const result = await loadCifar100(dir, { validation: 'test', labels: 'fine' });
      assert.ok(result.ok, result.ok ? '' : result.error);
      const { train, validation, files } = result.value;
      assert.deepEqual([train.height, train.width, train.classes, validation.classes], [32, 32, 100, 100]);
      assert.deepEqual([...train.labels], [30, 99, 0, 55]);
      assert.deepEqual([...validation.labels], [12, 71]);
      for (let i = 0; i < 4; i++) {
        for (let p = 0; p < 1024; p++) {
          for (let c = 0; c < 3; c++) {
            if (at(train, i, p >> 5, p & 31, c) !== pixel(i, c, p >> 5, p & 31)) assert.fail(`mismatch ${i}/${p}/${c}`);
          }
        }
      }
      assert.equal(at(validation, 1, 9, 3, 2), pixel(101, 2, 9, 3));
      assert.deepEqual(files, [join(dir, 'train.bin'), join(dir, 'test.bin')]);
    });
  });

  it('coarse labels: the first byte, 20 classes; split45k and trainLimit as for CIFAR-10', async () => {
    await withTempDir(async (dir) => {
      await fixture(dir);
      const coarse = await loadCifar100(dir, { validation: 'test', labels: 'coarse' });
      assert.ok(coarse.ok);
      assert.deepEqual([...coarse.value.train.labels], [4, 19, 0, 7]);
      assert.equal(coarse.value.train.classes, 20);

      const split = await loadCifar100(dir, { validation: 'split45k', labels: 'fine', trainLimit: 2 });
      assert.ok(split.ok);
      assert.deepEqual([...split.value.train.labels], [30, 99]);
      assert.deepEqual([...split.value.validation.labels], [55]);
      assert.deepEqual(split.value.files, [join(dir, 'train.bin')]);
    });
  });

  describe('a corrupt or missing file is one line naming it, and how to get the data', () => {
    const loadError = async (dir: string, labels: 'fine' | 'coarse' = 'fine'): Promise<string> => {
      const result = await loadCifar100(dir, { validation: 'test', labels });
      assert.ok(!result.ok, 'expected an error');
      assert.doesNotMatch(result.error, /\n/);
      assert.match(result.error, /resnet-exp fetch cifar100/);
      return result.error;
    };

    it('a fine label outside 0-99, even when training on coarse labels', async () => {
      await withTempDir(async (dir) => {
        await fixture(dir);
        const bad = cifar100Records([[1, 1], [2, 2], [3, 3]]);
        bad[2 * 3074 + 1] = 100;
        await writeFiles(dir, { 'train.bin': bad });
        const message = await loadError(dir, 'coarse');
        assert.ok(message.includes(join(dir, 'train.bin')), message);
        assert.match(message, /record 2 has fine label 100, outside 0-99/);
      });
    });

    it('a coarse label outside 0-19', async () => {
      await withTempDir(async (dir) => {
        await fixture(dir);
        await writeFiles(dir, { 'test.bin': cifar100Records([[20, 5]]) });
        assert.match(await loadError(dir), new RegExp(`CIFAR-100 file ${join(dir, 'test.bin')} record 0 has coarse label 20, outside 0-19`));
      });
    });

    it('a size that is not whole 3074-byte records (a CIFAR-10 file, say)', async () => {
      await withTempDir(async (dir) => {
        await fixture(dir);
        await writeFiles(dir, { 'train.bin': new Uint8Array(3073 * 2) });
        assert.match(await loadError(dir), new RegExp(`${join(dir, 'train.bin')} has 6146 bytes, not a positive multiple of the 3074-byte record`));
      });
    });

    it('no train.bin, no test.bin', async () => {
      await withTempDir(async (dir) => {
        await writeFiles(dir, { 'test.bin': cifar100Records([[1, 1]]) });
        assert.match(await loadError(dir), /no train\.bin in CIFAR-100 directory/);
        await writeFiles(dir, { 'train.bin': cifar100Records([[1, 1]]), 'test.bin': new Uint8Array(0) });
        assert.match(await loadError(dir), /test\.bin has 0 bytes/);
      });
    });
  });
});
