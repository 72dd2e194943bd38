import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import type { Config } from '../config/schema.js';
import { applyAugmentations, drawAugmentations, evalBatch, labelsOf, type Batch } from './augment.js';
import { CHANNELS, imageBytes, type Geometry, type ImageSet } from './image-set.js';
import { normalizationTable, type ChannelStats } from './normalize.js';
import { applyResizedCrops, centerBox, drawResizedCrops, type ResizedCropOptions } from './resized-crop.js';

/** What the network is fed: its input's height and width (channels are 3) and how many classes it tells apart. */
export type InputShape = Geometry;

/**
 * How stored images become the network's batches: training batches augmented (decisions drawn from the
 * sampler's augmentation stream), evaluation batches deterministic. Both are `input`-sized.
 */
export interface InputPipeline {
  readonly input: InputShape;
  trainBatch(set: ImageSet, indices: ArrayLike<number>, rng: RandomGenerator, stats: ChannelStats): Batch;
  evalBatch(set: ImageSet, start: number, end: number, stats: ChannelStats): Batch;
}

type DataConfig = Config['data'];

function checkRange(set: ImageSet, start: number, end: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > set.count) {
    throw new RangeError(`range [${start}, ${end}) is outside 0..${set.count}`);
  }
}

/** CIFAR's: pad 4 and crop back to the stored size, flip; evaluation on the images as stored. */
function padCropPipeline(augment: DataConfig['augment'], stored: Geometry): InputPipeline {
  return {
    input: { height: stored.height, width: stored.width, classes: stored.classes },
    trainBatch(set, indices, rng, stats) {
      const draws = drawAugmentations(rng, indices.length, augment);
      const x = new Float32Array(indices.length * imageBytes(set));
      applyAugmentations(set, indices, draws, normalizationTable(stats), x);
      return { x, y: labelsOf(set, indices), size: indices.length };
    },
    evalBatch,
  };
}

/** ImageNet-style: random resized crops for training, the central crop for evaluation. */
function resizedCropPipeline(opts: ResizedCropOptions, classes: number): InputPipeline {
  const { size } = opts;
  const input = { height: size, width: size, classes };
  return {
    input,
    trainBatch(set, indices, rng, stats) {
      const draws = drawResizedCrops(rng, indices.length, set, opts);
      const x = new Float32Array(indices.length * imageBytes(input));
      applyResizedCrops(set, indices, draws, size, normalizationTable(stats), x);
      return { x, y: labelsOf(set, indices), size: indices.length };
    },
    evalBatch(set, start, end, stats) {
      checkRange(set, start, end);
      const table = normalizationTable(stats);
      const { top, left } = centerBox(set.height, set.width, size);
      const x = new Float32Array((end - start) * imageBytes(input));
      const row = set.width * CHANNELS;
      let dst = 0;
      for (let i = start; i < end; i++) {
        for (let y = 0; y < size; y++) {
          let src = i * imageBytes(set) + (top + y) * row + left * CHANNELS;
          for (let k = 0; k < size; k++) {
            x[dst++] = table[set.images[src++]];
            x[dst++] = table[256 + set.images[src++]];
            x[dst++] = table[512 + set.images[src++]];
          }
        }
      }
      const y = new Int32Array(end - start);
      for (let i = start; i < end; i++) y[i - start] = set.labels[i];
      return { x, y, size: end - start };
    },
  };
}

/** The pipeline for the configured source, over images stored as `stored` (the training set's geometry). */
export function inputPipeline(data: DataConfig, stored: Geometry): InputPipeline {
  if (data.source !== 'imagefolder') return padCropPipeline(data.augment, stored);
  const { crop: size, scale, ratio } = data.imagefolder;
  if (size > stored.height || size > stored.width) {
    throw new RangeError(`crop ${size} is larger than the stored ${stored.height}x${stored.width} images`);
  }
  return resizedCropPipeline({ size, scale, ratio, crop: data.augment.crop, flip: data.augment.flip }, stored.classes);
}
