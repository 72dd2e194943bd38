import * as tf from '@tensorflow/tfjs-core';
import { UNITS } from './blocks.js';
import type { BatchStats, ForwardContext, LayerCost, Mode } from './context.js';
import { imagenetNet } from './imagenet-network.js';
import { conv } from './layers.js';
import { layerSeed, ParamStore } from './params.js';
import { blankInputShape, blocksPerStage, networkId, type NetworkSpec } from './spec.js';
import { stage, stageStrides } from './stage.js';
import { afterStem, beforePool, classifier } from './stem-and-head.js';

export { blocksPerStage, networkId, networkSpecs, type NetworkSpec } from './spec.js';

/**
 * The CIFAR-10 networks of He et al. 2015, section 4.2, and of its sequel (2016, appendix): a 3x3 conv of 16
 * filters, three stages of n blocks on maps of 32, 16 and 8 pixels, global average pooling, a 10-way classifier.
 *
 *     stage    map     basic block (2015)            bottleneck block (2016)
 *     stage1   32×32   [3×3, 16;  3×3, 16] × n       [1×1, 16; 3×3, 16; 1×1, 64]   × n
 *     stage2   16×16   [3×3, 32;  3×3, 32] × n       [1×1, 32; 3×3, 32; 1×1, 128]  × n
 *     stage3    8×8    [3×3, 64;  3×3, 64] × n       [1×1, 64; 3×3, 64; 1×1, 256]  × n
 *     depth            6n+2                          9n+2
 *
 * The first block of stages 2 and 3 has stride 2. Table 6 of the 2015 paper gives the basic nets' parameters to
 * two digits; exactly, with option A:
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
 *
 * The 2016 paper's pre-activation bottleneck nets, with option B (its Table 2 rounds them to 1.7M and 10.2M):
 *
 *     depth    n    parameters
 *       164   18     1,704,154
 *      1001  111    10,328,602
 *
 * The authors' code (KaimingHe/resnet-1k-layers) has 896 fewer, 1,703,258 and 10,327,706: its three projection
 * shortcuts have no BN, where every projection here has one (2·(64 + 128 + 256) values).
 */
export function cifarNet(spec: NetworkSpec, ctx: ForwardContext, x: tf.Tensor4D): tf.Tensor2D {
  const unit = UNITS[spec.variant];
  const n = blocksPerStage(spec);
  const w = spec.width;
  const common = { block: unit.block, kind: spec.block, shortcut: spec.shortcut, ablation: spec.ablation };
  let h = afterStem(ctx, conv(ctx, 'stem.conv', x, { filters: w, kernel: 3, stride: 1 }), unit);
  h = stage(ctx, 'stage1', h, { ...common, filters: w, strides: stageStrides(1, n) });
  h = stage(ctx, 'stage2', h, { ...common, filters: 2 * w, strides: stageStrides(2, n) });
  h = stage(ctx, 'stage3', h, { ...common, filters: 4 * w, strides: stageStrides(2, n) });
  return classifier(ctx, beforePool(ctx, h, unit), spec.classes ?? 10);
}

/** The network's forward pass: the CIFAR family's or the ImageNet family's. */
export const forwardPass = (spec: NetworkSpec, ctx: ForwardContext, x: tf.Tensor4D): tf.Tensor2D =>
  spec.family === 'imagenet' ? imagenetNet(spec, ctx, x) : cifarNet(spec, ctx, x);

/** A blank image of the network's input size: a forward pass over it creates the parameters and records costs. */
export const blankInput = (spec: NetworkSpec): tf.Tensor4D => tf.zeros(blankInputShape(spec));

export interface ForwardResult {
  logits: tf.Tensor2D;
  /** Training mode only: per-BN-layer batch statistics, kept out of tidy scopes; the caller disposes them. */
  batchStats: BatchStats[];
}

/** Which training pass this is: it seeds the pass's random draws (the dropout shortcut's masks). */
export interface Pass {
  step: number;
  /** The micro-batch within the step. */
  slice?: number;
}

/** A network and its parameters. */
export interface Network {
  spec: NetworkSpec;
  /** e.g. `residual-56`. */
  id: string;
  params: ParamStore;
  /** `pass` is required in training mode by networks that draw random numbers (dropout-shortcut). */
  forward(x: tf.Tensor4D, mode: Mode, pass?: Pass): ForwardResult;
  /** Per layer with parameters: parameters and multiply-adds per image. */
  costs: LayerCost[];
}

/**
 * Builds the network's parameters (He initialisation, seeded per layer name) by running one evaluation pass on a
 * blank image of the input size, which also records each layer's cost (multiply-adds per image of that size).
 */
export function buildNetwork(spec: NetworkSpec, seed: number): Network {
  const params = new ParamStore(seed);
  const costs: LayerCost[] = [];
  tf.tidy(() => {
    forwardPass(spec, { params, mode: 'eval', batchStats: [], costs }, blankInput(spec));
  });
  return {
    spec,
    id: networkId(spec),
    params,
    costs,
    forward(x, mode, pass) {
      const batchStats: BatchStats[] = [];
      const drawSeed = pass === undefined ? undefined : layerSeed(seed, `pass ${pass.step}.${pass.slice ?? 0}`);
      const logits = forwardPass(spec, { params, mode, batchStats, drawSeed }, x);
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

/** The weighted layers a network's depth counts: its convs off the shortcuts, and the classifier. */
export const weightedLayers = (costs: LayerCost[]): number => costs.filter((c) => c.kind === 'conv' || c.kind === 'dense').length;
