import { totalmem } from 'node:os';
import type { Logger } from 'pino';
import { configDepths, netSize, type Config } from '../config/index.js';
import { InputError } from '../result.js';

/** The data a run has once it is loaded: what the schema could not know (the files decide). */
export interface LoadedSizes {
  trainImages: number;
  validationImages: number;
  /** The networks' input size and classes (CIFAR's 32x32 and 10 unless given). */
  input?: { height: number; width: number; classes: number };
}

export interface SizeVerdict {
  /** Impossible: the run is refused. */
  errors: string[];
  /** Odd but trainable: said once at the start. */
  warnings: string[];
  /** Estimated peak bytes of tensors (the process needs a little more). */
  memoryBytes: number;
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Peak bytes of TF.js tensors, from what tf.profile measured on wasm and onednn (ResNet-8 to -56, widths 8 to 32):
 * per parameter 12 bytes (weights, momentum, a gradient while stepping); per image, 12 to 14 float32 maps of
 * 32·32·width for each block (n per stage) in a training pass of a CIFAR net of basic blocks, and as many in an
 * evaluation pass, which holds its whole graph (ResNet-56 on 500 images: 3.7 GB measured, the process's resident
 * size the same). Counted over all conv outputs, so that bottleneck and imagenet nets scale by their own maps,
 * that is at least 2.6 values per conv output value (ResNet-8's ratio, the lowest). Networks step one after the
 * other, so only the largest one's pass counts; every network's weights are held throughout. The coefficients
 * are the low end of what was measured: a run refused for memory would not have fitted.
 */
export function estimateMemory(config: Config, sizes: LoadedSizes): number {
  const { classes, ...input } = sizes.input ?? { height: 32, width: 32, classes: 10 };
  const { width, shortcut, family, block } = config.model;
  const sized = configDepths(config).flatMap((depth) =>
    config.model.variants.map((variant) => netSize({ variant, depth, width, shortcut, family, block }, classes, input)),
  );
  const passImages = Math.max(
    config.train.microBatch ?? config.train.batchSize,
    Math.min(config.eval.batchSize, sizes.validationImages, config.data.validationLimit ?? Infinity),
  );
  const pass = 2.6 * passImages * Math.max(...sized.map((s) => s.mapValues)) * 4;
  const weights = sized.reduce((sum, s) => sum + 12 * s.params, 0);
  // Training images as bytes, validation images as one float32 tensor set.
  const image = 3 * input.height * input.width;
  const data = sizes.trainImages * image + sizes.validationImages * image * 4;
  return weights + data + pass;
}

/** What the loaded data and this machine allow of the config. */
export function judgeSizes(config: Config, sizes: LoadedSizes, machineBytes = totalmem()): SizeVerdict {
  const errors: string[] = [];
  const warnings: string[] = [];
  const { batchSize } = config.train;
  const { trainImages, validationImages } = sizes;
  if (batchSize > trainImages) {
    errors.push(`train.batchSize ${batchSize} is more than the ${trainImages} training images: a batch would hold an image twice`);
  } else if (2 * batchSize > trainImages) {
    warnings.push(`an epoch of ${trainImages} training images is less than two batches of ${batchSize}: consecutive batches share most of their images`);
  }
  const limits: [string, number | undefined, number, string][] = [
    ['data.trainLimit', config.data.trainLimit, trainImages, 'training'],
    ['data.validationLimit', config.data.validationLimit, validationImages, 'validation'],
    ['diagnostics.batch', config.diagnostics.every === undefined ? undefined : config.diagnostics.batch, validationImages, 'validation'],
  ];
  for (const [key, value, have, what] of limits) {
    if (value !== undefined && value > have) warnings.push(`${key} ${value} is more than the ${have} ${what} images: all ${have} are used`);
  }
  const memoryBytes = estimateMemory(config, sizes);
  if (memoryBytes > machineBytes) {
    errors.push(
      `this run needs about ${gib(memoryBytes)} for its tensors, more than this machine's ${gib(machineBytes)}: ` +
        'lower train.microBatch (or train.batchSize), eval.batchSize, model.width or the depth',
    );
  }
  return { errors, warnings, memoryBytes };
}

/** Refuses (InputError, exit 2) what cannot run, warns about what is odd; before any run folder is written. */
export function checkSizes(config: Config, sizes: LoadedSizes, log: Logger): void {
  const verdict = judgeSizes(config, sizes);
  if (verdict.errors.length > 0) throw new InputError(verdict.errors.join('\n'));
  for (const w of verdict.warnings) log.warn(w);
  log.debug({ memoryBytes: verdict.memoryBytes }, `tensor memory estimate: ${gib(verdict.memoryBytes)}`);
}
