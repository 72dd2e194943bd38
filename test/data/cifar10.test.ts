import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadCifar10 } from '../../src/data/cifar.js';
import type { ImageSet } from '../../src/data/image-set.js';
import { cifarRecords, pixel, withTempDir, writeFiles } from './fixtures.js';

/** The NHWC byte of image `i` at (y, x, c). */
function at(set: ImageSet, i: number, y: number, x: number, c: number): number {
  return set.images[i * 3072 + (y * 32 + x) * 3 + c];
}

/** Two training files (3 + 2 records, numbered 0..4 globally) and a 2-record test file (numbered 100..). */
async function standardFixture(dir: string): Promise<void> {
  await writeFiles(dir, {
    'data_batch_1.bin': cifarRecords([3, 0, 9], 0),
    'data_batch_2.bin': cifarRecords([5, 7], 3),
    'test_batch.bin': cifarRecords([1, 2], 100),
    'batches.meta.txt': new TextEncoder().encode('airplane\n'),
  });
}

describe('loadCifar10', () => {
  it('reads labels and pixels exactly, converting planar to NHWC', async () => {
    await withTempDir(async (dir) => {
      await standardFixture(dir);
      const result = await loadCifar10(dir, { validation: 'test' });
      assert.ok(result.ok, result.ok ? '' : result.error);
      const { train, validation, files } = result.value;
      assert.equal(train.count, 5);
      assert.deepEqual([...train.labels], [3, 0, 9, 5, 7]);
      assert.equal(train.images.length, 5 * 3072);
      for (const [i, y, x] of [[0, 0, 0], [0, 0, 1], [1, 0, 31], [2, 31, 0], [4, 17, 23], [3, 31, 31]]) {
        for (let c = 0; c < 3; c++) assert.equal(at(train, i, y, x, c), pixel(i, c, y, x), `image ${i} (${y},${x},${c})`);
      }
      // Every byte, once, to catch any off-by-one the spot checks miss.
      for (let i = 0; i < 5; i++) {
        for (let p = 0; p < 1024; p++) {
          for (let c = 0; c < 3; c++) {
            if (at(train, i, p >> 5, p & 31, c) !== pixel(i, c, p >> 5, p & 31)) assert.fail(`mismatch ${i}/${p}/${c}`);
          }
        }
      }
      assert.deepEqual([...validation.labels], [1, 2]);
      assert.equal(at(validation, 1, 5, 6, 2), pixel(101, 2, 5, 6));
      assert.deepEqual(files, ['data_batch_1.bin', 'data_batch_2.bin', 'test_batch.bin'].map((f) => join(dir, f)));
    });
  });

  it('orders batch files by number, not by name', async () => {
    await withTempDir(async (dir) => {
      await writeFiles(dir, {
        'data_batch_10.bin': cifarRecords([8], 2),
        'data_batch_2.bin': cifarRecords([6], 1),
        'data_batch_1.bin': cifarRecords([4], 0),
      });
      const result = await loadCifar10(dir, { validation: 'split45k' });
      assert.ok(result.ok);
      assert.deepEqual(
        result.value.files.map((f) => f.slice(dir.length + 1)),
        ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_10.bin'],
      );
      assert.deepEqual([...result.value.train.labels, ...result.value.validation.labels], [4, 6, 8]);
    });
  });

  it('keeps the first trainLimit training images', async () => {
    await withTempDir(async (dir) => {
      await standardFixture(dir);
      const result = await loadCifar10(dir, { validation: 'test', trainLimit: 4 });
      assert.ok(result.ok);
      assert.deepEqual([...result.value.train.labels], [3, 0, 9, 5]);
      assert.equal(at(result.value.train, 3, 2, 2, 1), pixel(3, 1, 2, 2));
      assert.equal(result.value.validation.count, 2);
    });
  });

  it('split45k holds out the last tenth of the training images, then applies trainLimit', async () => {
    await withTempDir(async (dir) => {
      const labels = Array.from({ length: 20 }, (_, i) => i % 10);
      await writeFiles(dir, {
        'data_batch_1.bin': cifarRecords(labels.slice(0, 12), 0),
        'data_batch_2.bin': cifarRecords(labels.slice(12), 12),
      });
      const full = await loadCifar10(dir, { validation: 'split45k' });
      assert.ok(full.ok);
      assert.equal(full.value.train.count, 18);
      assert.deepEqual([...full.value.validation.labels], [8, 9]);
      assert.equal(at(full.value.validation, 0, 4, 4, 0), pixel(18, 0, 4, 4));
      assert.ok(!full.value.files.some((f) => f.endsWith('test_batch.bin')));

      const limited = await loadCifar10(dir, { validation: 'split45k', trainLimit: 5 });
      assert.ok(limited.ok);
      assert.deepEqual([...limited.value.train.labels], [0, 1, 2, 3, 4]);
      assert.deepEqual([...limited.value.validation.labels], [8, 9], 'the limit must not move the held-out set');
    });
  });

  describe('errors name where it looked and how to get the data', () => {
    const hint = /resnet-exp fetch cifar10.*--data-dir/;

    async function loadError(dir: string, validation: 'test' | 'split45k' = 'test'): Promise<string> {
      const result = await loadCifar10(dir, { validation });
      assert.ok(!result.ok, 'expected an error');
      assert.ok(!result.error.includes('\n'), 'one line');
      assert.match(result.error, hint);
      return result.error;
    }

    it('missing directory', async () => {
      await withTempDir(async (dir) => {
        const missing = join(dir, 'nope');
        const message = await loadError(missing);
        assert.ok(message.includes(missing));
        assert.match(message, /does not exist/);
      });
    });

    it('no data_batch files', async () => {
      await withTempDir(async (dir) => {
        await writeFiles(dir, { 'test_batch.bin': cifarRecords([1]) });
        const message = await loadError(dir);
        assert.ok(message.includes(dir));
        assert.match(message, /no data_batch_\*\.bin/);
      });
    });

    it('missing test_batch.bin only matters when validating on the test set', async () => {
      await withTempDir(async (dir) => {
        await writeFiles(dir, { 'data_batch_1.bin': cifarRecords([1, 2]) });
        const message = await loadError(dir, 'test');
        assert.ok(message.includes('test_batch.bin') && message.includes(dir));
        assert.ok((await loadCifar10(dir, { validation: 'split45k' })).ok);
      });
    });

    it('a file whose size is not a multiple of 3073', async () => {
      await withTempDir(async (dir) => {
        await writeFiles(dir, {
          'data_batch_1.bin': cifarRecords([1]),
          'data_batch_2.bin': cifarRecords([1, 2]).subarray(0, 5000),
          'test_batch.bin': cifarRecords([1]),
        });
        const message = await loadError(dir);
        assert.ok(message.includes(join(dir, 'data_batch_2.bin')));
        assert.match(message, /5000 bytes/);
      });
    });

    it('an empty file', async () => {
      await withTempDir(async (dir) => {
        await writeFiles(dir, { 'data_batch_1.bin': cifarRecords([1]), 'test_batch.bin': new Uint8Array(0) });
        const message = await loadError(dir);
        assert.ok(message.includes(join(dir, 'test_batch.bin')));
        assert.match(message, /0 bytes/);
      });
    });

    it('a label outside 0-9', async () => {
      await withTempDir(async (dir) => {
        const bad = cifarRecords([1, 2, 3]);
        bad[2 * 3073] = 10;
        await writeFiles(dir, { 'data_batch_1.bin': cifarRecords([0]), 'data_batch_2.bin': bad, 'test_batch.bin': cifarRecords([1]) });
        const message = await loadError(dir);
        assert.ok(message.includes(join(dir, 'data_batch_2.bin')));
        assert.match(message, /record 2 has label 10/);
      });
    });

    it('a path that is a file, not a directory', async () => {
      await withTempDir(async (dir) => {
        await writeFiles(dir, { 'plain.txt': new Uint8Array(1) });
        const message = await loadError(join(dir, 'plain.txt'));
        assert.match(message, /not a directory/);
      });
    });
  });

  it('rejects a trainLimit that is not a positive integer', async () => {
    await withTempDir(async (dir) => {
      await standardFixture(dir);
      const result = await loadCifar10(dir, { validation: 'test', trainLimit: 0 });
      assert.ok(!result.ok);
      assert.match(result.error, /trainLimit/);
    });
  });
});
