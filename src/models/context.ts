import type * as tf from '@tensorflow/tfjs-core';
import type { ParamStore } from './params.js';

export type Mode = 'train' | 'eval';

/** Batch statistics of one BN layer in a training pass, for the moving averages used at evaluation. */
export interface BatchStats {
  layer: string;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** Values per channel the statistics were taken over (N·H·W), for the unbiased variance. */
  count: number;
}

/** Cost of one weighted layer, recorded by `describe`. */
export interface LayerCost {
  layer: string;
  kind: 'conv' | 'bn' | 'dense';
  params: number;
  /** Multiply-adds per image. */
  macs: number;
}

/** What a forward pass threads through the layers. */
export interface ForwardContext {
  params: ParamStore;
  mode: Mode;
  /** Filled in training mode; the caller owns (and disposes) the tensors. */
  batchStats: BatchStats[];
  /** When set, each weighted layer appends its cost. */
  costs?: LayerCost[];
}
