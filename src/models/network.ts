import * as tf from '@tensorflow/tfjs-core';
import type { Variant } from '../config/schema.js';
import { plainBlock, preactBlock, residualBlock, type Block } from './blocks.js';
import type { BatchStats, ForwardContext, LayerCost, Mode } from './context.js';
import { batchNorm, conv, dense } from './layers.js';
import { ParamStore } from './params.js';
import type { ShortcutOption } from './shortcuts.js';
import { stage, stageStrides } from './stage.js';

export interface NetworkSpec {
  variant: Variant;
  /** 6n+2: a 3x3 stem conv, three stages of n two-conv blocks, the classifier. */
  depth: number;
  /** Filters of the first stage; stages have width, 2·width, 4·width. */
  width: number;
  shortcut: ShortcutOption;
  /** Classifier outputs; 10 (CIFAR-10) unless the data set says otherwise. */
  classes?: number;
  /** Input images' height and width; 32x32 unless the data set says otherwise. The global average pool takes any size. */
  input?: { height: number; width: number };
}

const inputOf = (spec: NetworkSpec): { height: number; width: number } => spec.input ?? { height: 32, width: 32 };

/** A blank image of the network's input size: a forward pass over it creates the parameters and records costs. */
export const blankInput = (spec: NetworkSpec): tf.Tensor4D => tf.zeros([1, inputOf(spec).height, inputOf(spec).width, 3]);

const BLOCKS: Record<Variant, Block> = { plain: plainBlock, residual: residualBlock, preact: preactBlock };

export const blocksPerStage = (depth: number): number => (depth - 2) / 6;

/**
 * The CIFAR-10 networks of He et al. 2015, section 4.2: a 3x3 conv, three stages of n blocks of two 3x3 convs on
 * maps of 32, 16 and 8 pixels with 16, 32 and 64 filters, global average pooling and a 10-way classifier:
 * 6n+2 weighted layers. Its Table 6 gives the parameters to two digits; exactly, with option A:
 *
 *     depth    n    parameters
 *        20    3       269,722
 *        32    5       464,154
 *        44    7       658,586
 *        56    9       853,018
 *       110   18     1,727,962
 *
 * that is 432 + 32 (stem conv, BN) + Σ over blocks c_in → c_out of 9·c_in·c_out + 9·c_out² + 4·c_out (two convs,
 * two BNs) + 650 (classifier). Plain twins have the same count: option A's shortcuts have no parameters.
 */
export function cifarNet(spec: NetworkSpec, ctx: ForwardContext, x: tf.Tensor4D): tf.Tensor2D {
  const n = blocksPerStage(spec.depth);
  const common = { block: BLOCKS[spec.variant], shortcut: spec.shortcut };
  const stem = conv(ctx, 'stem.conv', x, { filters: spec.width, kernel: 3, stride: 1 });
  // Pre-activation units start from the raw conv output; their BN-ReLU comes inside each unit.
  let h = spec.variant === 'preact' ? stem : batchNorm(ctx, 'stem.bn', stem, { relu: true });
  h = stage(ctx, 'stage1', h, { ...common, filters: spec.width, strides: stageStrides(1, n) });
  h = stage(ctx, 'stage2', h, { ...common, filters: 2 * spec.width, strides: stageStrides(2, n) });
  h = stage(ctx, 'stage3', h, { ...common, filters: 4 * spec.width, strides: stageStrides(2, n) });
  // The last pre-activation unit's output gets the activation no later unit gives it (2016, appendix).
  if (spec.variant === 'preact') h = batchNorm(ctx, 'final.bn', h, { relu: true });
  return dense(ctx, 'classifier', tf.mean(h, [1, 2]) as tf.Tensor2D, spec.classes ?? 10);
}

export interface ForwardResult {
  logits: tf.Tensor2D;
  /** Training mode only: per-BN-layer batch statistics, kept out of tidy scopes; the caller disposes them. */
  batchStats: BatchStats[];
}

/** A network and its parameters. */
export interface Network {
  spec: NetworkSpec;
  /** e.g. `residual-56`. */
  id: string;
  params: ParamStore;
  forward(x: tf.Tensor4D, mode: Mode): ForwardResult;
  /** Per weighted layer: parameters and multiply-adds per image. */
  costs: LayerCost[];
}

export const networkId = (spec: Pick<NetworkSpec, 'variant' | 'depth'>): string => `${spec.variant}-${spec.depth}`;

/**
 * Builds the network's parameters (He initialisation, seeded per layer name) by running one evaluation pass on a
 * blank image of the input size, which also records each layer's cost (multiply-adds per image of that size).
 */
export function buildNetwork(spec: NetworkSpec, seed: number): Network {
  const params = new ParamStore(seed);
  const costs: LayerCost[] = [];
  tf.tidy(() => {
    cifarNet(spec, { params, mode: 'eval', batchStats: [], costs }, blankInput(spec));
  });
  return {
    spec,
    id: networkId(spec),
    params,
    costs,
    forward(x, mode) {
      const batchStats: BatchStats[] = [];
      const logits = cifarNet(spec, { params, mode, batchStats }, x);
      return { logits, batchStats };
    },
  };
}

export interface NetworkCost {
  params: number;
  macs: number;
}

export const totalCost = (costs: LayerCost[]): NetworkCost =>
  costs.reduce((t, c) => ({ params: t.params + c.params, macs: t.macs + c.macs }), { params: 0, macs: 0 });
