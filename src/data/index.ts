export {
  CHANNELS,
  CIFAR10_GEOMETRY,
  imageBytes,
  makeImageSet,
  subset,
  type Geometry,
  type ImageSet,
  type IndexRange,
  type Labels,
} from './image-set.js';
export { CIFAR_RECORD_BYTES, CIFAR_SIZE } from './cifar-format.js';
export {
  heldOutCount,
  loadCifar10,
  loadCifar100,
  type Cifar10,
  type CifarData,
  type LoadCifar10Options,
  type LoadCifar100Options,
  type ValidationSource,
} from './cifar.js';
export { CIFAR10, CIFAR100, RELEASES, type CifarRelease, type ReleaseId } from './releases.js';
export { loadImageFolder, type ImageFolderData, type LoadImageFolderOptions } from './image-folder.js';
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
export { inputPipeline, type InputPipeline, type InputShape } from './pipeline.js';
export { dataProblem, describeInput, loadDataset, type LoadedData } from './load.js';
export { BatchSampler, samplerStateSchema, type SampledBatch, type SamplerState } from './sampler.js';
export { independentStream, seededGenerator } from './rng.js';
