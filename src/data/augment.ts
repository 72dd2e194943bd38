import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { CHANNELS, imageBytes, type ImageSet } from './image-set.js';
import { normalizationTable, type ChannelStats } from './normalize.js';

/** Zero padding on each side before the random crop, as in the paper (He et al. 2015, §4.2). */
export const CROP_PADDING = 4;
/** Largest crop offset; an offset of CROP_PADDING on both axes reproduces the original image. */
export const MAX_CROP_OFFSET = 2 * CROP_PADDING;

export interface AugmentOptions {
  readonly crop: boolean;
  readonly flip: boolean;
}

/**
 * Per-image augmentation decisions. Offsets are where the H×W window starts in the (H+8)×(W+8) padded image
 * (0..8), so output(y, x) = input(y + offsetY - 4, x + offsetX - 4), black where that falls outside.
 * A flip mirrors the cropped window horizontally (crop then flip, torchvision's usual order).
 */
export interface AugmentDraws {
  readonly offsetY: Uint8Array;
  readonly offsetX: Uint8Array;
  readonly flipped: Uint8Array;
}

export interface Batch {
  /** B×H×W×3 normalised pixels, NHWC. */
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly size: number;
}

export interface TrainBatch extends Batch {
  readonly draws: AugmentDraws;
}

/**
 * Draws the decisions for `size` images, per image in order: offsetY, offsetX (only when cropping), then
 * the flip coin (only when flipping). Disabled augmentations draw nothing, so toggling one changes the
 * stream but a fixed configuration is reproducible from the RNG state alone.
 */
export function drawAugmentations(rng: RandomGenerator, size: number, opts: AugmentOptions): AugmentDraws {
  const offsetY = new Uint8Array(size).fill(CROP_PADDING);
  const offsetX = new Uint8Array(size).fill(CROP_PADDING);
  const flipped = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    if (opts.crop) {
      offsetY[i] = uniformInt(rng, 0, MAX_CROP_OFFSET);
      offsetX[i] = uniformInt(rng, 0, MAX_CROP_OFFSET);
    }
    if (opts.flip) flipped[i] = uniformInt(rng, 0, 1);
  }
  return { offsetY, offsetX, flipped };
}

/**
 * Writes the augmented, normalised images into `x`. Padding is raw black (byte 0) normalised like any
 * pixel, matching torchvision's RandomCrop(padding=4) applied before Normalize.
 */
export function applyAugmentations(
  set: ImageSet,
  indices: ArrayLike<number>,
  draws: AugmentDraws,
  table: Float32Array,
  x: Float32Array,
): void {
  const { images, height, width } = set;
  const bytes = imageBytes(set);
  const pad0 = table[0];
  const pad1 = table[256];
  const pad2 = table[512];
  const rowFloats = width * CHANNELS;
  for (let b = 0; b < indices.length; b++) {
    const src = indices[b] * bytes;
    const dy = draws.offsetY[b] - CROP_PADDING;
    const dx = draws.offsetX[b] - CROP_PADDING;
    const flip = draws.flipped[b] === 1;
    let dst = b * bytes;
    for (let y = 0; y < height; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= height) {
        for (let k = 0; k < width; k++) {
          x[dst++] = pad0;
          x[dst++] = pad1;
          x[dst++] = pad2;
        }
        continue;
      }
      const srcRow = src + sy * rowFloats;
      for (let xo = 0; xo < width; xo++) {
        const sx = (flip ? width - 1 - xo : xo) + dx;
        if (sx < 0 || sx >= width) {
          x[dst++] = pad0;
          x[dst++] = pad1;
          x[dst++] = pad2;
        } else {
          const s = srcRow + sx * CHANNELS;
          x[dst++] = table[images[s]];
          x[dst++] = table[256 + images[s + 1]];
          x[dst++] = table[512 + images[s + 2]];
        }
      }
    }
  }
}

export function labelsOf(set: ImageSet, indices: ArrayLike<number>): Int32Array {
  const y = new Int32Array(indices.length);
  for (let b = 0; b < indices.length; b++) y[b] = set.labels[indices[b]];
  return y;
}

/** A training batch: augmentation decisions drawn from `rng`, then one pass to crop, flip and normalise. */
export function augmentBatch(
  set: ImageSet,
  indices: ArrayLike<number>,
  rng: RandomGenerator,
  opts: AugmentOptions,
  stats: ChannelStats,
): TrainBatch {
  const size = indices.length;
  const draws = drawAugmentations(rng, size, opts);
  const x = new Float32Array(size * imageBytes(set));
  applyAugmentations(set, indices, draws, normalizationTable(stats), x);
  return { x, y: labelsOf(set, indices), size, draws };
}

/** Images [start, end) normalised, without augmentation, for evaluation. */
export function evalBatch(set: ImageSet, start: number, end: number, stats: ChannelStats): Batch {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > set.count) {
    throw new RangeError(`range [${start}, ${end}) is outside 0..${set.count}`);
  }
  const table = normalizationTable(stats);
  const bytes = imageBytes(set);
  const pixels = set.images.subarray(start * bytes, end * bytes);
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i += CHANNELS) {
    x[i] = table[pixels[i]];
    x[i + 1] = table[256 + pixels[i + 1]];
    x[i + 2] = table[512 + pixels[i + 2]];
  }
  const y = new Int32Array(end - start);
  for (let i = start; i < end; i++) y[i - start] = set.labels[i];
  return { x, y, size: end - start };
}
