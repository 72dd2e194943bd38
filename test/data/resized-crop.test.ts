import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema, type ConfigInput } from '../../src/config/schema.js';
import { augmentBatch } from '../../src/data/augment.js';
import { CIFAR10_GEOMETRY, makeImageSet, type ImageSet } from '../../src/data/image-set.js';
import type { ChannelStats } from '../../src/data/normalize.js';
import { inputPipeline } from '../../src/data/pipeline.js';
import { applyResizedCrops, drawResizedCrops, type ResizedCropOptions } from '../../src/data/resized-crop.js';
import { seededGenerator } from '../../src/data/rng.js';
import { syntheticCifar } from '../../src/data/synthetic.js';

/** mean 0, std 1: a normalised value times 255 is the byte. */
const IDENTITY: ChannelStats = { mean: [0, 0, 0], std: [1, 1, 1] };
const byte = (v: number): number => Math.round(v * 255);
const IDENTITY_TABLE = Float32Array.from({ length: 768 }, (_, i) => (i % 256) / 255);

/** S×S images whose pixel (y, x) of image i is (y, x, i): where every output pixel came from is readable. */
function coordinates(count: number, size: number, classes = 5): ImageSet {
  const images = new Uint8Array(count * size * size * 3);
  for (let i = 0; i < count; i++) for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) images.set([y, x, i], ((i * size + y) * size + x) * 3);
  return makeImageSet(images, Uint16Array.from({ length: count }, (_, i) => i % classes), { height: size, width: size, classes });
}

const OPTS: ResizedCropOptions = { size: 12, scale: [0.08, 1], ratio: [3 / 4, 4 / 3], crop: true, flip: true };

describe('random resized crops', () => {
  it('boxes lie inside the image, within the area and aspect ranges (up to rounding), and come from the seed alone', () => {
    const source = { height: 16, width: 16 };
    const draws = drawResizedCrops(seededGenerator(7), 500, source, OPTS);
    assert.deepEqual(drawResizedCrops(seededGenerator(7), 500, source, OPTS), draws);
    assert.notDeepEqual(drawResizedCrops(seededGenerator(8), 500, source, OPTS), draws);
    const areas = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const [t, l, h, w] = [draws.top[i], draws.left[i], draws.height[i], draws.width[i]];
      assert.ok(h >= 1 && w >= 1 && t + h <= 16 && l + w <= 16, `box ${t},${l},${h},${w}`);
      // Sides are rounded from the drawn area and ratio: allow half a pixel on each.
      assert.ok((h + 0.5) * (w + 0.5) >= 0.08 * 256 && (h - 0.5) * (w - 0.5) <= 256, `area of ${h}x${w}`);
      assert.ok((w + 0.5) / Math.max(h - 0.5, 0.5) >= 3 / 4 && (w - 0.5) / (h + 0.5) <= 4 / 3, `ratio of ${h}x${w}`);
      areas.add(h * w);
    }
    assert.ok(areas.size > 20, 'boxes of many sizes');
    const flips = draws.flipped.reduce((a, b) => a + b, 0);
    assert.ok(flips > 200 && flips < 300, `${flips} flips of 500`);
  });

  it('without crop, the central box; without flip, no coin: disabled augmentations draw nothing', () => {
    const rng = seededGenerator(3);
    const before = rng.clone();
    const none = drawResizedCrops(rng, 4, { height: 16, width: 20 }, { ...OPTS, crop: false, flip: false });
    assert.deepEqual([...none.top, ...none.left, ...none.height, ...none.width, ...none.flipped], [2, 2, 2, 2, 4, 4, 4, 4, 12, 12, 12, 12, 12, 12, 12, 12, 0, 0, 0, 0]);
    assert.equal(rng.next(), before.next(), 'nothing was drawn');
  });

  it('a box the size of the output is a plain copy; a flip mirrors it; a larger box is resized bilinearly', () => {
    const set = coordinates(2, 16);
    const draws = { top: Uint16Array.of(1, 0), left: Uint16Array.of(3, 0), height: Uint16Array.of(12, 16), width: Uint16Array.of(12, 16), flipped: Uint8Array.of(1, 0) };
    const x = new Float32Array(2 * 12 * 12 * 3);
    applyResizedCrops(set, [1, 0], draws, 12, IDENTITY_TABLE, x);
    for (let y = 0; y < 12; y++) {
      for (let xo = 0; xo < 12; xo++) {
        const o = (y * 12 + xo) * 3;
        assert.deepEqual([byte(x[o]), byte(x[o + 1]), byte(x[o + 2])], [1 + y, 3 + (11 - xo), 1], `copy (${y},${xo})`);
        // 16 → 12: output o samples source (o + 0.5)·4/3 − 0.5; a linear ramp stays linear, rounded.
        const p = 12 * 12 * 3 + o;
        const s = (v: number) => Math.round(Math.min(Math.max((v + 0.5) * (16 / 12) - 0.5, 0), 15));
        assert.deepEqual([byte(x[p]), byte(x[p + 1]), byte(x[p + 2])], [s(y), s(xo), 0], `resized (${y},${xo})`);
      }
    }
  });
});

describe('input pipelines', () => {
  const config = (data: ConfigInput['data']) => configSchema.parse({ data }).data;

  it("CIFAR's pipeline gives exactly augmentBatch's batches (what every earlier run trained on)", () => {
    const { train } = syntheticCifar(1, { train: 40, validation: 1 });
    const pipeline = inputPipeline(config({}), train);
    assert.deepEqual(pipeline.input, CIFAR10_GEOMETRY);
    const indices = [5, 0, 39, 17, 17, 2];
    const stats: ChannelStats = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
    const ours = pipeline.trainBatch(train, indices, seededGenerator(11), stats);
    const before = augmentBatch(train, indices, seededGenerator(11), { crop: true, flip: true }, stats);
    assert.deepEqual([ours.x, ours.y, ours.size], [before.x, before.y, before.size]);
  });

  it('image folders: crop-sized batches; evaluation takes the central crop exactly; training is seeded', () => {
    const set = coordinates(3, 16, 7);
    const pipeline = inputPipeline(config({ source: 'imagefolder', dir: '/x', imagefolder: { size: 16, crop: 12 } }), set);
    assert.deepEqual(pipeline.input, { height: 12, width: 12, classes: 7 });
    const evaluation = pipeline.evalBatch(set, 1, 3, IDENTITY);
    assert.equal(evaluation.x.length, 2 * 12 * 12 * 3);
    assert.deepEqual([...evaluation.y], [1, 2]);
    for (const [b, y, xo] of [[0, 0, 0], [1, 11, 11], [0, 5, 7]]) {
      const o = ((b * 12 + y) * 12 + xo) * 3;
      assert.deepEqual([byte(evaluation.x[o]), byte(evaluation.x[o + 1]), byte(evaluation.x[o + 2])], [y + 2, xo + 2, b + 1]);
    }
    assert.throws(() => pipeline.evalBatch(set, 2, 4, IDENTITY), RangeError);

    const a = pipeline.trainBatch(set, [0, 2, 1], seededGenerator(4), IDENTITY);
    assert.equal(a.x.length, 3 * 12 * 12 * 3);
    assert.deepEqual([...a.y], [0, 2, 1]);
    assert.deepEqual(pipeline.trainBatch(set, [0, 2, 1], seededGenerator(4), IDENTITY).x, a.x);
    assert.notDeepEqual(pipeline.trainBatch(set, [0, 2, 1], seededGenerator(5), IDENTITY).x, a.x);

    assert.throws(() => inputPipeline(config({ source: 'imagefolder', dir: '/x', imagefolder: { size: 64, crop: 56 } }), set), /crop 56 is larger than the stored 16x16/);
  });
});
