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

/** Cost of one layer with parameters, recorded by `describe`. */
export interface LayerCost {
  layer: string;
  /** `conv` and `dense` are the weighted layers a network's depth counts; shortcut convs (projections, gates) are not. */
  kind: 'conv' | 'shortcut-conv' | 'bn' | 'bias' | 'dense';
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
  /** When set, each weighted layer's conv appends its output, for the response diagnostics (He et al. 2015, Fig. 7). */
  responses?: LayerResponse[];
  /**
   * Seed of this training pass's random draws (the dropout shortcut's masks), mixed with each layer's name;
   * set by Network.forward from the run's seed and the pass (step, slice), so a resumed run draws the same.
   */
  drawSeed?: number;
}

/** A weighted layer's conv output, and the output of the batch norm applied right to it where there is one. */
export interface LayerResponse {
  layer: string;
  conv: tf.Tensor4D;
  bn?: tf.Tensor4D;
}
