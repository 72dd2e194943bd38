import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rename, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CACHE_FOLDER } from '../../src/data/image-cache.js';
import { decodeSquare } from '../../src/data/image-decode.js';
import { loadImageFolder, type LoadImageFolderOptions } from '../../src/data/image-folder.js';
import { scanImageFolder } from '../../src/data/image-folder-scan.js';
import type { ImageSet } from '../../src/data/image-set.js';
import { withTempDir, writeImage } from './fixtures.js';

/** A solid colour that says which image it is: R = 40·class + 10, G = 20·index + 5, B = 60 (train) or 180 (val). */
const colour = (label: number, index: number, split: 'train' | 'val'): number[] => [40 * label + 10, 20 * index + 5, split === 'train' ? 60 : 180];

/** `counts[split][class]` solid-colour PNGs of 10×10 named 000.png, 001.png, … */
async function makeFolder(root: string, counts: Record<'train' | 'val', Record<string, number>>): Promise<void> {
  for (const split of ['train', 'val'] as const) {
    const classes = Object.keys(counts[split]).sort();
    for (const cls of Object.keys(counts[split])) {
      const label = classes.indexOf(cls);
      for (let i = 0; i < counts[split][cls]; i++) {
        await writeImage(join(root, split, cls, `${String(i).padStart(3, '0')}.png`), { width: 10, height: 10, pixel: () => colour(label, i, split) });
      }
    }
  }
}

/** The RGB of pixel (y, x) of image i. */
const rgb = (set: ImageSet, i: number, y = 0, x = 0): number[] => {
  const o = i * set.height * set.width * 3 + (y * set.width + x) * 3;
  return [set.images[o], set.images[o + 1], set.images[o + 2]];
};

const near = (got: number[], want: number[], tolerance = 1): boolean => got.every((v, c) => Math.abs(v - want[c]) <= tolerance);

async function load(root: string, opts: Partial<LoadImageFolderOptions> = {}) {
  const notes: string[] = [];
  const result = await loadImageFolder(root, { size: 8, note: (line) => notes.push(line), env: { XDG_CACHE_HOME: join(root, '..', 'xdg') }, ...opts });
  return { result, notes, decoded: notes.some((n) => n.startsWith('decoding')) };
}

async function loadError(root: string): Promise<string> {
  const { result } = await load(root);
  assert.ok(!result.ok, 'expected an error');
  assert.doesNotMatch(result.error, /\n/, 'one line');
  return result.error;
}

describe('image folder: layout', () => {
  it('classes in name order, images at any depth, classes interleaved, other files and dot-names skipped', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'data');
      await makeFolder(root, { train: { n02: 1, n01: 3 }, val: { n01: 1, n02: 1 } });
      // Tiny ImageNet keeps training images one level down and box files beside them.
      await writeImage(join(root, 'train', 'n02', 'images', 'deep.JPEG'), { width: 6, height: 6, format: 'jpeg' });
      await writeFile(join(root, 'train', 'n02', 'n02_boxes.txt'), 'deep.JPEG\t0\t0\t5\t5\n');
      await writeFile(join(root, 'train', '.DS_Store'), 'x');
      await mkdir(join(root, 'train', '.hidden'));
      await writeFile(join(root, 'train', 'n01', '.thumb.png'), 'not an image');
      const listing = scanImageFolder(root);
      assert.ok(listing.ok, listing.ok ? '' : listing.error);
      assert.deepEqual(listing.value.classes, ['n01', 'n02']);
      assert.deepEqual(
        listing.value.train.map((f) => `${f.label}:${f.rel}`),
        ['0:train/n01/000.png', '1:train/n02/000.png', '0:train/n01/001.png', '1:train/n02/images/deep.JPEG', '0:train/n01/002.png'],
      );
      assert.deepEqual(listing.value.val.map((f) => `${f.label}:${f.rel}`), ['0:val/n01/000.png', '1:val/n02/000.png']);
    });
  });

  it("Tiny ImageNet's flat val/ with val_annotations.txt", async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'tiny');
      await makeFolder(root, { train: { n01: 1, n02: 1 }, val: {} });
      for (const name of ['val_0.JPEG', 'val_1.JPEG', 'val_2.JPEG']) await writeImage(join(root, 'val', 'images', name), { width: 8, height: 8, format: 'jpeg' });
      await writeFile(join(root, 'val', 'val_annotations.txt'), 'val_0.JPEG\tn02\t0\t0\t7\t7\nval_1.JPEG\tn01\t1\t1\t6\t6\nval_2.JPEG\tn02\t0\t0\t1\t1\n');
      const listing = scanImageFolder(root);
      assert.ok(listing.ok, listing.ok ? '' : listing.error);
      assert.deepEqual(listing.value.val.map((f) => `${f.label}:${f.rel}`), ['0:val/images/val_1.JPEG', '1:val/images/val_0.JPEG', '1:val/images/val_2.JPEG']);

      await writeFile(join(root, 'val', 'val_annotations.txt'), 'val_0.JPEG\tn02\nval_1.JPEG\tn09\n');
      assert.equal(
        await loadError(root),
        `${join(root, 'val', 'val_annotations.txt')} line 2: class "n09" is not a class of ${join(root, 'train')}`,
      );
      await writeFile(join(root, 'val', 'val_annotations.txt'), 'missing.JPEG\tn01\n');
      assert.match(await loadError(root), new RegExp(`line 1: cannot read image ${join(root, 'val', 'images', 'missing.JPEG')} \\(ENOENT\\)`));
    });
  });
});

describe('image folder: bad input is one line naming the folder or file', () => {
  it('no folder, no train/, no class folders', async () => {
    await withTempDir(async (dir) => {
      assert.equal(await loadError(join(dir, 'nope')), `image folder ${join(dir, 'nope')} does not exist`);
      await mkdir(join(dir, 'a'));
      assert.match(await loadError(join(dir, 'a')), new RegExp(`^image folder ${join(dir, 'a', 'train')} does not exist; an image folder holds train/ and val/`));
      await mkdir(join(dir, 'b', 'train'), { recursive: true });
      await writeFile(join(dir, 'b', 'train', 'loose.png'), '');
      assert.match(await loadError(join(dir, 'b')), new RegExp(`^no class folders in ${join(dir, 'b', 'train')}`));
    });
  });

  it('an empty class, a validation class train/ lacks, no validation images', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'data');
      await makeFolder(root, { train: { cat: 2, dog: 1 }, val: { cat: 1 } });
      await mkdir(join(root, 'train', 'emu', 'images'), { recursive: true });
      await writeFile(join(root, 'train', 'emu', 'notes.txt'), 'no images here');
      assert.equal(await loadError(root), `class folder ${join(root, 'train', 'emu')} has no PNG or JPEG images`);
      await writeImage(join(root, 'train', 'emu', 'images', 'a.png'), { width: 4, height: 4 });
      await makeFolder(root, { train: {}, val: { yak: 1 } });
      assert.equal(await loadError(root), `class folder ${join(root, 'val', 'yak')} is not a class of ${join(root, 'train')}`);
    });
  });

  it('an unreadable file, a corrupt image, a truncated JPEG', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'data');
      await makeFolder(root, { train: { cat: 2, dog: 2 }, val: { cat: 1 } });
      const dangling = join(root, 'train', 'dog', '005.png');
      await symlink(join(dir, 'gone.png'), dangling);
      assert.equal(await loadError(root), `cannot read image ${dangling} (ENOENT)`);

      const garbage = join(root, 'train', 'dog', '005.png');
      // Replace the link itself (writing through it would create its target).
      await writeFile(`${garbage}.new`, 'not a PNG at all');
      await rename(`${garbage}.new`, garbage);
      assert.match(await loadError(root), new RegExp(`^cannot decode image ${garbage}: `));

      await writeFile(garbage, readFileSync(join(root, 'train', 'cat', '000.png')));
      const jpeg = join(root, 'val', 'cat', 'cut.jpg');
      await writeImage(jpeg, { width: 64, height: 64, format: 'jpeg' });
      await truncate(jpeg, Math.floor(readFileSync(jpeg).length / 2));
      assert.match(await loadError(root), new RegExp(`^cannot decode image ${jpeg}: `));
    });
  });
});

describe('image folder: decoding', () => {
  it('any PNG/JPEG kind becomes size×size 8-bit RGB: the short side resized, the long one centre-cropped', async () => {
    await withTempDir(async (dir) => {
      const cases: [string, Parameters<typeof writeImage>[1], number[]][] = [
        ['grey.png', { width: 9, height: 9, channels: 1, pixel: () => [77] }, [77, 77, 77]],
        ['grey-alpha.png', { width: 9, height: 9, channels: 2, pixel: () => [200, 10] }, [200, 200, 200]],
        ['rgba.png', { width: 9, height: 9, channels: 4, pixel: () => [10, 20, 30, 40] }, [10, 20, 30]],
        ['rgb.jpg', { width: 9, height: 9, format: 'jpeg', pixel: () => [120, 60, 30] }, [120, 60, 30]],
        // Three 4-pixel bands, red | green | blue: at size 4 only the middle one is left.
        ['bands.png', { width: 12, height: 4, pixel: (x) => (x < 4 ? [255, 0, 0] : x < 8 ? [0, 255, 0] : [0, 0, 255]) }, [0, 255, 0]],
      ];
      for (const [name, spec, want] of cases) {
        await writeImage(join(dir, name), spec);
        const size = name === 'bands.png' ? 4 : 5;
        const got = await decodeSquare(join(dir, name), size);
        assert.ok(got.ok, got.ok ? '' : got.error);
        assert.equal(got.value.length, size * size * 3, name);
        for (let p = 0; p < size * size; p++) {
          const px = [...got.value.subarray(p * 3, p * 3 + 3)];
          assert.ok(near(px, want, name.endsWith('.jpg') ? 3 : 1), `${name} pixel ${p}: ${px} vs ${want}`);
        }
      }
    });
  });
});

describe('image folder: the cache', () => {
  it('the first read decodes and caches; the next reads the cache; a change in the folder decodes again', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'data');
      await makeFolder(root, { train: { a: 2, b: 3 }, val: { a: 1, b: 1 } });
      await mkdir(join(root, CACHE_FOLDER));
      await writeFile(join(root, CACHE_FOLDER, 'README'), 'a file of the user: never deleted');

      const first = await load(root);
      assert.ok(first.result.ok, first.result.ok ? '' : first.result.error);
      assert.equal(first.decoded, true);
      const { train, validation, files } = first.result.value;
      assert.deepEqual([train.count, train.height, train.width, train.classes], [5, 8, 8, 2]);
      assert.deepEqual([...train.labels], [0, 1, 0, 1, 1]);
      // Interleaved: a/000, b/000, a/001, b/001, b/002.
      assert.ok(near(rgb(train, 3, 4, 4), colour(1, 1, 'train')), `${rgb(train, 3, 4, 4)}`);
      assert.ok(near(rgb(validation, 1, 7, 0), colour(1, 0, 'val')));
      const cached = readdirSync(join(root, CACHE_FOLDER)).sort();
      assert.equal(cached.length, 3);
      assert.match(cached[2], /^val-8px-[0-9a-f]{16}\.bin$/);
      assert.match(cached[1], /^train-8px-[0-9a-f]{16}\.bin$/);
      assert.deepEqual(files, [join(root, CACHE_FOLDER, cached[1]), join(root, CACHE_FOLDER, cached[2])]);

      // A hit is served from the file: change a pixel byte in it and the loader returns the changed byte.
      const trainCache = join(root, CACHE_FOLDER, cached[1]);
      const bytes = readFileSync(trainCache);
      bytes[bytes.length - 1] = 251;
      writeFileSync(trainCache, bytes);
      const second = await load(root);
      assert.ok(second.result.ok);
      assert.equal(second.decoded, false, 'the second read decoded again');
      assert.equal(second.result.value.train.images.at(-1), 251);

      // A newer modification time, or a new image, is another folder: decoded again, the stale cache removed.
      await utimes(join(root, 'train', 'a', '000.png'), new Date(), new Date(Date.now() + 5000));
      const touched = await load(root);
      assert.ok(touched.result.ok);
      assert.equal(touched.decoded, true);
      assert.notEqual(touched.result.value.train.images.at(-1), 251);
      await makeFolder(root, { train: { a: 3 }, val: {} });
      const grown = await load(root);
      assert.ok(grown.result.ok);
      assert.equal(grown.result.value.train.count, 6);
      const now = readdirSync(join(root, CACHE_FOLDER)).sort();
      assert.equal(now.length, 3);
      assert.equal(now[0], 'README');
      assert.equal(existsSync(trainCache), false);
      assert.equal(now[2], cached[2], 'val did not change: its cache stays');

      // Another size is another cache, beside this one.
      const bigger = await load(root, { size: 10 });
      assert.ok(bigger.result.ok);
      assert.equal(bigger.decoded, true);
      assert.equal(readdirSync(join(root, CACHE_FOLDER)).length, 5);
    });
  });

  it('a damaged cache is decoded again and rewritten; where the folder cannot take one, the per-user cache does', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'data');
      await makeFolder(root, { train: { a: 1, b: 1 }, val: { b: 1 } });
      const first = await load(root);
      assert.ok(first.result.ok);
      const cache = first.result.value.files[0];
      await truncate(cache, 100);
      const again = await load(root);
      assert.ok(again.result.ok);
      assert.equal(again.decoded, true);
      assert.deepEqual([...again.result.value.train.images], [...first.result.value.train.images]);
      assert.equal(again.result.value.files[0], cache);
      assert.ok(readFileSync(cache).length > 100, 'rewritten whole');

      const other = join(dir, 'other');
      await makeFolder(other, { train: { a: 1 }, val: { a: 1 } });
      await writeFile(join(other, CACHE_FOLDER), 'a file of the user where the cache folder would go');
      const fallback = await load(other);
      assert.ok(fallback.result.ok, fallback.result.ok ? '' : fallback.result.error);
      assert.ok(fallback.result.value.files[0].startsWith(join(dir, 'xdg', 'resnet-exp', 'image-cache')), fallback.result.value.files[0]);
      assert.equal(readFileSync(join(other, CACHE_FOLDER), 'utf8'), 'a file of the user where the cache folder would go');
      assert.equal((await load(other)).decoded, false);
    });
  });

  it('trainLimit keeps a class-balanced prefix', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'data');
      await makeFolder(root, { train: { a: 3, b: 3, c: 3 }, val: { a: 1 } });
      const { result } = await load(root, { trainLimit: 4 });
      assert.ok(result.ok);
      assert.deepEqual([...result.value.train.labels], [0, 1, 2, 0]);
    });
  });
});
