export {
  BYTES_PER_IMAGE,
  CHANNELS,
  IMAGE_SIZE,
  NUM_CLASSES,
  PIXELS_PER_IMAGE,
  makeImageSet,
  subset,
  type ImageSet,
  type IndexRange,
} from './image-set.js';
export { CIFAR_RECORD_BYTES } from './cifar10-format.js';
export { heldOutCount, loadCifar10, type Cifar10, type LoadCifar10Options, type ValidationSource } from './cifar10.js';
export { syntheticCifar, type SyntheticCounts } from './synthetic.js';
export { channelStats, normalizationTable, type ChannelStats, type Rgb } from './normalize.js';
export {
  CROP_PADDING,
  MAX_CROP_OFFSET,
  applyAugmentations,
  augmentBatch,
  drawAugmentations,
  evalBatch,
  type AugmentDraws,
  type AugmentOptions,
  type Batch,
  type TrainBatch,
} from './augment.js';
export { BatchSampler, samplerStateSchema, type SampledBatch, type SamplerState } from './sampler.js';
export { independentStream, seededGenerator } from './rng.js';
