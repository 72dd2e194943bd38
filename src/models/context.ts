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
  /** When set, each 3x3 layer appends its output, for the response diagnostics (He et al. 2015, Fig. 7). */
  responses?: LayerResponse[];
}

/** A 3x3 layer's output, and the output of the batch norm applied right to it where there is one. */
export interface LayerResponse {
  layer: string;
  conv: tf.Tensor4D;
  bn?: tf.Tensor4D;
}
