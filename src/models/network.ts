import * as tf from '@tensorflow/tfjs-core';
import type { Variant } from '../config/schema.js';
import { plainBlock, preactBlock, residualBlock, type Block } from './blocks.js';
import type { BatchStats, ForwardContext, LayerCost, Mode } from './context.js';
import { batchNorm, conv, dense } from './layers.js';
import { ParamStore } from './params.js';
import type { ShortcutOption } from './shortcuts.js';

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

/** The CIFAR-10 network of He et al. 2015, section 4.2: stem, three stages of blocks, global average pool, dense. */
export function cifarNet(spec: NetworkSpec, ctx: ForwardContext, x: tf.Tensor4D): tf.Tensor2D {
  const block = BLOCKS[spec.variant];
  const stem = conv(ctx, 'stem.conv', x, { filters: spec.width, kernel: 3, stride: 1 });
  // Pre-activation units start from the raw conv output; their BN-ReLU comes inside each unit.
  let h = spec.variant === 'preact' ? stem : batchNorm(ctx, 'stem.bn', stem, { relu: true });
  [1, 2, 4].forEach((multiplier, stage) => {
    for (let b = 0; b < blocksPerStage(spec.depth); b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      h = block(ctx, `stage${stage + 1}.block${b + 1}`, h, { filters: spec.width * multiplier, stride, shortcut: spec.shortcut });
    }
  });
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
