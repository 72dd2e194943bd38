import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyAugmentations,
  augmentBatch,
  drawAugmentations,
  evalBatch,
  type AugmentDraws,
} from '../../src/data/augment.js';
import { CIFAR10_GEOMETRY, makeImageSet, type ImageSet } from '../../src/data/image-set.js';
import { normalizationTable, type ChannelStats } from '../../src/data/normalize.js';
import { seededGenerator } from '../../src/data/rng.js';

/** mean 0, std 1: normalised value = byte / 255, so Math.round(v * 255) recovers the byte. */
const IDENTITY: ChannelStats = { mean: [0, 0, 0], std: [1, 1, 1] };
const byte = (v: number): number => Math.round(v * 255);

/** Every pixel says where it came from: R = row + 1, G = column + 1, B = 200 + image (never 0). */
function coordinateImages(count: number): ImageSet {
  const images = new Uint8Array(count * 3072);
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) images.set([y + 1, x + 1, 200 + i], i * 3072 + (y * 32 + x) * 3);
    }
  }
  return makeImageSet(images, Uint8Array.from({ length: count }, (_, i) => i % 10), CIFAR10_GEOMETRY);
}

/** Checks every output pixel against output(y, x) = input(y + oy - 4, x' + ox - 4), x' mirrored if flipped. */
function assertPlacement(x: Float32Array, indices: number[], draws: AugmentDraws): void {
  indices.forEach((source, b) => {
    for (let y = 0; y < 32; y++) {
      for (let xo = 0; xo < 32; xo++) {
        const sy = y + draws.offsetY[b] - 4;
        const sx = (draws.flipped[b] ? 31 - xo : xo) + draws.offsetX[b] - 4;
        const o = b * 3072 + (y * 32 + xo) * 3;
        const got = [byte(x[o]), byte(x[o + 1]), byte(x[o + 2])];
        const inside = sy >= 0 && sy < 32 && sx >= 0 && sx < 32;
        const want = inside ? [sy + 1, sx + 1, 200 + source] : [0, 0, 0];
        if (got.some((v, c) => v !== want[c])) {
          assert.fail(`batch ${b} (${y},${xo}): got ${got}, want ${want} for draws ${draws.offsetY[b]},${draws.offsetX[b]},${draws.flipped[b]}`);
        }
      }
    }
  });
}

function draws(offsetY: number[], offsetX: number[], flipped: number[]): AugmentDraws {
  return { offsetY: Uint8Array.from(offsetY), offsetX: Uint8Array.from(offsetX), flipped: Uint8Array.from(flipped) };
}

describe('augmentation', () => {
  it('places a crafted image where the drawn offsets and flips say, black padding elsewhere', () => {
    const set = coordinateImages(3);
    const indices = Array.from({ length: 128 }, (_, i) => i % 3);
    const batch = augmentBatch(set, indices, seededGenerator(5), { crop: true, flip: true }, IDENTITY);
    assert.equal(batch.size, 128);
    assert.equal(batch.x.length, 128 * 32 * 32 * 3);
    assert.deepEqual([...batch.y], indices.map((i) => i % 10));
    for (const offsets of [batch.draws.offsetY, batch.draws.offsetX]) {
      assert.ok(offsets.every((o) => o >= 0 && o <= 8));
      assert.ok(offsets.includes(0) && offsets.includes(8), 'both extremes occur in 128 draws');
    }
    assert.ok(batch.draws.flipped.includes(0) && batch.draws.flipped.includes(1));
    assertPlacement(batch.x, indices, batch.draws);
  });

  it('extreme offsets shift the image by 4 and expose the padding band', () => {
    const set = coordinateImages(1);
    const x = new Float32Array(3072);
    // Window starts at the padded image's top edge and its right edge: image moves down 4 and left 4.
    applyAugmentations(set, [0], draws([0], [8], [0]), normalizationTable(IDENTITY), x);
    const px = (y: number, xo: number): number[] => [0, 1, 2].map((c) => byte(x[(y * 32 + xo) * 3 + c]));
    assert.deepEqual(px(3, 10), [0, 0, 0], 'top 4 rows are padding');
    assert.deepEqual(px(4, 0), [1, 5, 200], 'output (4,0) is input (0,4)');
    assert.deepEqual(px(31, 27), [28, 32, 200], 'output (31,27) is input (27,31)');
    assert.deepEqual(px(10, 28), [0, 0, 0], 'right 4 columns are padding');
  });

  it('a flip alone mirrors each row', () => {
    const set = coordinateImages(1);
    const x = new Float32Array(3072);
    applyAugmentations(set, [0], draws([4], [4], [1]), normalizationTable(IDENTITY), x);
    for (let y = 0; y < 32; y += 7) {
      for (let xo = 0; xo < 32; xo++) {
        assert.equal(byte(x[(y * 32 + xo) * 3 + 1]), 32 - xo, `column at output ${xo} is input ${31 - xo}`);
        assert.equal(byte(x[(y * 32 + xo) * 3]), y + 1);
      }
    }
  });

  it('pads with raw black normalised like any pixel, not with the mean', () => {
    const stats: ChannelStats = { mean: [0.5, 0.4, 0.3], std: [0.25, 0.2, 0.1] };
    const x = new Float32Array(3072);
    applyAugmentations(coordinateImages(1), [0], draws([0], [4], [0]), normalizationTable(stats), x);
    assert.deepEqual([x[0], x[1], x[2]].map((v) => Number(v.toFixed(4))), [-2, -2, -3]);
  });

  it('draws nothing for disabled augmentations and reproduces from the RNG state', () => {
    const rng = seededGenerator(9);
    const before = rng.getState();
    const none = drawAugmentations(rng, 16, { crop: false, flip: false });
    assert.deepEqual(rng.getState(), before);
    assert.ok(none.offsetY.every((o) => o === 4) && none.flipped.every((f) => f === 0));

    const a = drawAugmentations(seededGenerator(9), 16, { crop: true, flip: false });
    const b = drawAugmentations(seededGenerator(9), 16, { crop: true, flip: false });
    assert.deepEqual(a, b);
    assert.ok(a.flipped.every((f) => f === 0));
  });

  it('without crop and flip a training batch equals the evaluation batch', () => {
    const set = coordinateImages(4);
    const stats: ChannelStats = { mean: [0.1, 0.2, 0.3], std: [0.3, 0.2, 0.1] };
    const train = augmentBatch(set, [1, 2, 3], seededGenerator(1), { crop: false, flip: false }, stats);
    const evaluation = evalBatch(set, 1, 4, stats);
    assert.deepEqual(train.x, evaluation.x);
    assert.deepEqual(train.y, evaluation.y);
    assert.equal(evaluation.size, 3);
    assert.throws(() => evalBatch(set, 2, 5, stats), RangeError);
  });
});
