import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { CHANNELS, imageBytes, type ImageSet } from './image-set.js';

/**
 * ImageNet-style augmentation (torchvision's RandomResizedCrop, the usual reading of He et al. 2015 §3.4):
 * a random box of `scale` of the image's area and aspect ratio in `ratio` is resized to the network's input,
 * then mirrored with probability 1/2. Evaluation takes the central input-sized crop, unresized.
 */
export interface ResizedCropOptions {
  /** Side of the network's square input; at most the stored images' sides. */
  readonly size: number;
  /** Area of the box as a fraction of the image's, [min, max]. */
  readonly scale: readonly [number, number];
  /** Aspect ratio (width / height) of the box, [min, max], drawn log-uniformly. */
  readonly ratio: readonly [number, number];
  /** Random boxes; without, every image gives its central crop. */
  readonly crop: boolean;
  readonly flip: boolean;
}

/** Per image, the box in the stored image (integer pixels) and the mirror coin. */
export interface CropDraws {
  readonly top: Uint16Array;
  readonly left: Uint16Array;
  readonly height: Uint16Array;
  readonly width: Uint16Array;
  readonly flipped: Uint8Array;
}

/** torchvision's attempts at a box that fits before it gives up and takes a central one. */
const ATTEMPTS = 10;

/** The central size×size window of a height×width image. */
export function centerBox(height: number, width: number, size: number): { top: number; left: number } {
  return { top: Math.floor((height - size) / 2), left: Math.floor((width - size) / 2) };
}

function randomBox(rng: RandomGenerator, H: number, W: number, opts: ResizedCropOptions): [number, number, number, number] {
  const area = H * W;
  const [logLow, logHigh] = [Math.log(opts.ratio[0]), Math.log(opts.ratio[1])];
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const target = area * (opts.scale[0] + (opts.scale[1] - opts.scale[0]) * uniformFloat64(rng));
    const aspect = Math.exp(logLow + (logHigh - logLow) * uniformFloat64(rng));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && w <= W && h > 0 && h <= H) return [uniformInt(rng, 0, H - h), uniformInt(rng, 0, W - w), h, w];
  }
  // No box fitted: the largest central one whose aspect ratio is within range.
  const inRatio = W / H;
  let [h, w] = [H, W];
  if (inRatio < opts.ratio[0]) h = Math.round(W / opts.ratio[0]);
  else if (inRatio > opts.ratio[1]) w = Math.round(H * opts.ratio[1]);
  return [Math.floor((H - h) / 2), Math.floor((W - w) / 2), h, w];
}

/**
 * Draws the boxes and coins for `count` images of `source`'s size, per image in order: the box's draws (only
 * when cropping; a variable number of them, as torchvision's retries), then the flip coin (only when flipping).
 * Reproducible from the RNG state alone for a fixed configuration.
 */
export function drawResizedCrops(rng: RandomGenerator, count: number, source: { height: number; width: number }, opts: ResizedCropOptions): CropDraws {
  const { height: H, width: W } = source;
  const center = centerBox(H, W, opts.size);
  const draws: CropDraws = {
    top: new Uint16Array(count).fill(center.top),
    left: new Uint16Array(count).fill(center.left),
    height: new Uint16Array(count).fill(opts.size),
    width: new Uint16Array(count).fill(opts.size),
    flipped: new Uint8Array(count),
  };
  for (let i = 0; i < count; i++) {
    if (opts.crop) [draws.top[i], draws.left[i], draws.height[i], draws.width[i]] = randomBox(rng, H, W, opts);
    if (opts.flip) draws.flipped[i] = uniformInt(rng, 0, 1);
  }
  return draws;
}

/**
 * Source coordinate and weights of each output column (or row): bilinear with half-pixel centres (PyTorch's
 * align_corners=False), clamped to the box so nothing outside it bleeds in.
 */
function taps(start: number, length: number, size: number): { lo: Int32Array; hi: Int32Array; w: Float64Array } {
  const lo = new Int32Array(size);
  const hi = new Int32Array(size);
  const w = new Float64Array(size);
  const step = length / size;
  for (let o = 0; o < size; o++) {
    const s = Math.min(Math.max((o + 0.5) * step - 0.5, 0), length - 1);
    const base = Math.floor(s);
    lo[o] = start + base;
    hi[o] = start + Math.min(base + 1, length - 1);
    w[o] = s - base;
  }
  return { lo, hi, w };
}

/**
 * Writes each drawn box of `set`, resized to size×size, mirrored if drawn so, normalised through `table`
 * (see normalizationTable), into `x` (NHWC). Interpolated values are rounded to bytes first, as resizing a
 * uint8 image does before Normalize in torchvision. A box of exactly size×size is a plain copy.
 */
export function applyResizedCrops(set: ImageSet, indices: ArrayLike<number>, draws: CropDraws, size: number, table: Float32Array, x: Float32Array): void {
  const { images, width: W } = set;
  const bytes = imageBytes(set);
  const row = W * CHANNELS;
  // Per output column, in output order (mirrored when flipped): byte offsets of the two source columns, weight.
  const left = new Int32Array(size);
  const right = new Int32Array(size);
  const wxs = new Float64Array(size);
  let dst = 0;
  for (let b = 0; b < indices.length; b++) {
    const src = indices[b] * bytes;
    const ys = taps(draws.top[b], draws.height[b], size);
    const xs = taps(draws.left[b], draws.width[b], size);
    const flip = draws.flipped[b] === 1;
    for (let xo = 0; xo < size; xo++) {
      const k = flip ? size - 1 - xo : xo;
      left[xo] = xs.lo[k] * CHANNELS;
      right[xo] = xs.hi[k] * CHANNELS;
      wxs[xo] = xs.w[k];
    }
    for (let y = 0; y < size; y++) {
      const top = src + ys.lo[y] * row;
      const bottom = src + ys.hi[y] * row;
      const wy = ys.w[y];
      for (let xo = 0; xo < size; xo++) {
        const l = left[xo];
        const r = right[xo];
        const wx = wxs[xo];
        const vx = 1 - wx;
        const vy = 1 - wy;
        const a = top + l;
        const bb = top + r;
        const c = bottom + l;
        const d = bottom + r;
        // Horizontal, then vertical: for a box of the output's size both weights are 0 and the bytes pass unchanged.
        x[dst++] = table[Math.round((images[a] * vx + images[bb] * wx) * vy + (images[c] * vx + images[d] * wx) * wy)];
        x[dst++] = table[256 + Math.round((images[a + 1] * vx + images[bb + 1] * wx) * vy + (images[c + 1] * vx + images[d + 1] * wx) * wy)];
        x[dst++] = table[512 + Math.round((images[a + 2] * vx + images[bb + 2] * wx) * vy + (images[c + 2] * vx + images[d + 2] * wx) * wy)];
      }
    }
  }
}
