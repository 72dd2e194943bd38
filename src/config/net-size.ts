import type { BlockKind, Family, ShortcutOption, Variant } from './architecture.js';

/** The blocks per stage of the imagenet family's depths (He et al. 2015, Table 1). */
export const IMAGENET_STAGES: Readonly<Record<number, { block: BlockKind; blocks: readonly number[] }>> = {
  18: { block: 'basic', blocks: [2, 2, 2, 2] },
  34: { block: 'basic', blocks: [3, 4, 6, 3] },
  50: { block: 'bottleneck', blocks: [3, 4, 6, 3] },
  101: { block: 'bottleneck', blocks: [3, 4, 23, 3] },
  152: { block: 'bottleneck', blocks: [3, 8, 36, 3] },
};

/** The architecture knobs of a network (src/models builds it from the same ones). */
export interface NetShape {
  variant: Variant;
  depth: number;
  width: number;
  shortcut: ShortcutOption;
  /** cifar unless given. */
  family?: Family;
  /** basic unless given. */
  block?: BlockKind;
}

export interface NetSize {
  /** Trainable parameters (conv kernels, BN scale and shift, gate biases, the classifier's kernel and bias). */
  params: number;
  /** Multiply-adds per input image, forward pass (convolutions and the classifier). */
  macs: number;
  /** Weighted layers the depth counts: convolutions off the shortcuts, and the classifier. */
  layers: number;
  /** Values per image of the largest feature map a layer outputs (a batch's largest single tensor, per image). */
  largestMap: number;
  /** Values per image of all convolution outputs together: what a training pass's memory grows with. */
  mapValues: number;
}

/** The blocks of each stage: n, n, n for a cifar net (depth = 3·n·layers per block + 2); Table 1's for imagenet. */
export function stageBlocks({ family, depth, block }: Pick<NetShape, 'family' | 'depth' | 'block'>): readonly number[] {
  if (family === 'imagenet') {
    const stages = IMAGENET_STAGES[depth];
    if (stages === undefined) throw new Error(`no imagenet network of depth ${depth}`);
    return stages.blocks;
  }
  return Array<number>(3).fill((depth - 2) / (3 * (block === 'bottleneck' ? 3 : 2)));
}

// 'same' padding: a stride-2 layer's output side is its input's halved, rounded up.
const halve = (side: { h: number; w: number }) => ({ h: Math.ceil(side.h / 2), w: Math.ceil(side.w / 2) });

/**
 * What src/models would build, counted from the shape alone: instant at any size, so the schema can bound a
 * network before anything is allocated and `describe` answers for ResNet-1001 or ResNet-152 at once. The counts
 * follow src/models layer by layer (blocks.ts, residual-function.ts, shortcuts.ts, shortcut-kinds.ts);
 * test/models/net-size.test.ts checks them against the costs the built networks record, for every variant,
 * block, shortcut option and family.
 */
export function netSize(shape: NetShape, classes = 10, input = { height: 32, width: 32 }): NetSize {
  const { variant, width } = shape;
  const family = shape.family ?? 'cifar';
  const block = shape.block ?? 'basic';
  const size: NetSize = { params: 0, macs: 0, layers: 0, largestMap: 0, mapValues: 0 };
  const conv = (kernel: number, inputs: number, filters: number, map: { h: number; w: number }, onShortcut = false) => {
    size.params += kernel * kernel * inputs * filters;
    size.macs += map.h * map.w * kernel * kernel * inputs * filters;
    if (!onShortcut) size.layers += 1;
    size.largestMap = Math.max(size.largestMap, map.h * map.w * filters);
    size.mapValues += map.h * map.w * filters;
  };
  const bn = (channels: number) => {
    size.params += 2 * channels;
  };
  const preactivated = variant === 'preact';
  const gated = variant === 'exclusive-gating' || variant === 'shortcut-gating';
  const option = variant === 'conv-shortcut' ? 'C' : shape.shortcut;

  let side = { h: input.height, w: input.width };
  if (family === 'imagenet') {
    side = halve(side);
    conv(7, 3, width, side);
  } else {
    conv(3, 3, width, side);
  }
  if (!preactivated) bn(width);
  // The imagenet family's 3x3 max-pool of stride 2.
  if (family === 'imagenet') side = halve(side);

  let channels = width;
  stageBlocks({ family, depth: shape.depth, block }).forEach((n, stage) => {
    const filters = width * 2 ** stage;
    const outputs = block === 'bottleneck' ? 4 * filters : filters;
    for (let b = 0; b < n; b++) {
      const inputs = b === 0 ? channels : outputs;
      const stride = stage > 0 && b === 0 ? 2 : 1;
      if (stride === 2) side = halve(side);
      // F: conv → BN per layer (pre-activation: BN → conv, the first BN on the block's input).
      const layers: [number, number][] = block === 'bottleneck' ? [[1, filters], [3, filters], [1, outputs]] : [[3, filters], [3, filters]];
      let c = inputs;
      layers.forEach(([kernel, out], i) => {
        if (preactivated) bn(c);
        conv(kernel, c, out, side);
        const lastBnMoved = variant === 'bn-after-add' && i === layers.length - 1;
        if (!preactivated && !lastBnMoved) bn(out);
        c = out;
      });
      if (variant === 'bn-after-add') bn(outputs);
      if (variant !== 'plain') {
        const changes = stride !== 1 || inputs !== outputs;
        if (option === 'C' || (changes && option === 'B')) {
          conv(1, inputs, outputs, side, true);
          bn(outputs);
        } else if (changes && option === 'conv3x3-bn') {
          conv(3, inputs, outputs, side, true);
          bn(outputs);
        }
        // The gate: a 1x1 conv of the block's stride with a bias, one gate per output value.
        if (gated) {
          conv(1, inputs, outputs, side, true);
          size.params += outputs;
        }
      }
    }
    channels = outputs;
  });
  if (preactivated) bn(channels);
  size.params += channels * classes + classes;
  size.macs += channels * classes;
  size.layers += 1;
  return size;
}
