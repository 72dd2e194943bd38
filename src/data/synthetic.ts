import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { CHANNELS, CIFAR10_GEOMETRY, imageBytes, makeImageSet, type ImageSet } from './image-set.js';

/** CIFAR-10's shape: a stand-in for it. */
const IMAGE_SIZE = CIFAR10_GEOMETRY.width;
const NUM_CLASSES = CIFAR10_GEOMETRY.classes;
const BYTES_PER_IMAGE = imageBytes(CIFAR10_GEOMETRY);
import { independentStream, seededGenerator } from './rng.js';

/**
 * Knobs of the synthetic task, tuned so a small conv net learns it within a few dozen steps without being
 * handed it at step 0: the class lives in a smooth colour pattern, but each image shows it shifted, with
 * its own contrast and brightness, under per-pixel noise comparable to the signal.
 */
const GRID = 4; // pattern control points per axis: low frequency, tileable
const SIGNAL = 32; // peak pattern deviation from mid-grey, in pixel levels
const MAX_SHIFT = 8; // per-image circular translation of the pattern, pixels per axis
const MIN_CONTRAST = 0.4; // pattern strength per image in [MIN_CONTRAST, 1]
const MAX_BRIGHTNESS = 40; // per-image brightness offset in ±levels
// Noise is the sum of two random bytes, centred and divided by 4: triangular on ±64, std ≈ 26 levels.

export interface SyntheticCounts {
  readonly train: number;
  readonly validation: number;
}

/** Uniform in [-1, 1]. */
function signedUnit(rng: RandomGenerator): number {
  return uniformInt(rng, -1000, 1000) / 1000;
}

/**
 * One smooth pattern per class, NHWC floats in [-1, 1]: a random GRID×GRID×3 lattice, bilinearly
 * interpolated with wrap-around so shifting it circularly leaves no seam.
 */
function classPatterns(rng: RandomGenerator): Float32Array[] {
  const cell = IMAGE_SIZE / GRID;
  return Array.from({ length: NUM_CLASSES }, () => {
    const lattice = Float32Array.from({ length: GRID * GRID * CHANNELS }, () => signedUnit(rng));
    const at = (gy: number, gx: number, c: number): number =>
      lattice[(((gy + GRID) % GRID) * GRID + ((gx + GRID) % GRID)) * CHANNELS + c];
    const pattern = new Float32Array(BYTES_PER_IMAGE);
    for (let y = 0; y < IMAGE_SIZE; y++) {
      const v = (y + 0.5) / cell - 0.5;
      const gy = Math.floor(v);
      const fy = v - gy;
      for (let x = 0; x < IMAGE_SIZE; x++) {
        const u = (x + 0.5) / cell - 0.5;
        const gx = Math.floor(u);
        const fx = u - gx;
        for (let c = 0; c < CHANNELS; c++) {
          const top = at(gy, gx, c) * (1 - fx) + at(gy, gx + 1, c) * fx;
          const bottom = at(gy + 1, gx, c) * (1 - fx) + at(gy + 1, gx + 1, c) * fx;
          pattern[(y * IMAGE_SIZE + x) * CHANNELS + c] = top * (1 - fy) + bottom * fy;
        }
      }
    }
    return pattern;
  });
}

function render(patterns: Float32Array[], count: number, rng: RandomGenerator): ImageSet {
  const images = new Uint8Array(count * BYTES_PER_IMAGE);
  const labels = new Uint8Array(count);
  const mask = IMAGE_SIZE - 1; // IMAGE_SIZE is a power of two, so & wraps the shift
  for (let i = 0; i < count; i++) {
    const label = uniformInt(rng, 0, NUM_CLASSES - 1);
    labels[i] = label;
    const pattern = patterns[label];
    const sy = uniformInt(rng, -MAX_SHIFT, MAX_SHIFT);
    const sx = uniformInt(rng, -MAX_SHIFT, MAX_SHIFT);
    const gain = SIGNAL * (MIN_CONTRAST + (1 - MIN_CONTRAST) * uniformInt(rng, 0, 1000) / 1000);
    const base = 128 + uniformInt(rng, -MAX_BRIGHTNESS, MAX_BRIGHTNESS);
    let dst = i * BYTES_PER_IMAGE;
    let bits = 0;
    let spare = 0; // noise values left in `bits` (two per 32-bit draw)
    for (let y = 0; y < IMAGE_SIZE; y++) {
      const row = ((y + sy) & mask) * IMAGE_SIZE;
      for (let x = 0; x < IMAGE_SIZE; x++) {
        const src = (row + ((x + sx) & mask)) * CHANNELS;
        for (let c = 0; c < CHANNELS; c++) {
          if (spare === 0) {
            bits = rng.next();
            spare = 2;
          }
          const noise = ((bits & 0xff) + ((bits >>> 8) & 0xff) - 255) / 4;
          bits >>>= 16;
          spare--;
          const value = base + gain * pattern[src + c] + noise;
          images[dst++] = value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
        }
      }
    }
  }
  return makeImageSet(images, labels, CIFAR10_GEOMETRY);
}

/**
 * CIFAR-shaped synthetic data (32×32×3 uint8, labels 0-9, uniformly random) with a learnable class
 * signal, for tests and smoke runs without the real data set. Deterministic in `seed`; the validation
 * images come from their own stream, so changing the train count does not change them.
 */
export function syntheticCifar(seed: number, counts: SyntheticCounts): { train: ImageSet; validation: ImageSet } {
  for (const [name, n] of Object.entries(counts)) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} count must be a non-negative integer, got ${n}`);
  }
  const patternRng = seededGenerator(seed);
  const trainRng = independentStream(patternRng);
  const validationRng = independentStream(trainRng);
  const patterns = classPatterns(patternRng);
  return {
    train: render(patterns, counts.train, trainRng),
    validation: render(patterns, counts.validation, validationRng),
  };
}
