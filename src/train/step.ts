import * as tf from '@tensorflow/tfjs-core';
import type { BatchStats } from '../models/context.js';
import type { Network } from '../models/network.js';
import { movingAveragesMany } from '../ops/moving-average.js';
import { softmaxCrossEntropy } from '../ops/softmax-cross-entropy.js';
import type { Sgd } from './sgd.js';

/** PyTorch's BN momentum: moving ← 0.9·moving + 0.1·batch. */
const BN_MOMENTUM = 0.1;

export interface StepResult {
  /** Mean cross-entropy over the batch; NaN or ±Infinity when the network diverged (no update is applied then). */
  loss: number;
  /** Misclassified images in the batch. */
  wrong: number;
}

export interface Batch {
  x: tf.Tensor4D;
  /** int32 class indices. */
  y: tf.Tensor1D;
}

/** Runs a stepwise computation to its end without pausing. */
export function runToEnd<T>(parts: Generator<void, T>): T {
  for (;;) {
    const next = parts.next();
    if (next.done) return next.value;
  }
}

/**
 * One SGD iteration: forward and backward in training mode, then the update. With `microBatch` smaller than the
 * batch, gradients of equal slices are averaged before one update (batch-norm statistics per slice), which bounds
 * the memory a backend needs. `step` (the training loop's iteration) seeds the step's random draws in networks
 * that make some (dropout shortcuts), so a resumed run draws what the uninterrupted one did.
 */
export function trainStep(net: Network, sgd: Sgd, batch: Batch, lr: number, microBatch?: number, step = 0): StepResult {
  return runToEnd(trainStepParts(net, sgd, batch, lr, microBatch, step));
}

/**
 * trainStep, pausing after each micro-batch's forward and backward pass: a caller can let the event loop run
 * there (signal handlers, on a backend whose passes take minutes). The arithmetic is the same either way.
 */
export function* trainStepParts(net: Network, sgd: Sgd, batch: Batch, lr: number, microBatch?: number, step = 0): Generator<void, StepResult> {
  const size = batch.x.shape[0];
  const slice = Math.min(microBatch ?? size, size);
  const slices = Math.ceil(size / slice);
  const trainable = net.params.trainable();
  const varList = trainable.map((p) => p.variable);
  const names = new Map(trainable.map((p) => [p.variable.name, p.name]));
  const summed = new Map<string, tf.Tensor>();
  let loss = 0;
  let wrong = 0;

  for (let s = 0; s < slices; s++) {
    const part = slices === 1 ? batch : sliceBatch(batch, s * slice, Math.min(slice, size - s * slice));
    let stats: BatchStats[] = [];
    let wrongTensor: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const out = net.forward(part.x, 'train', { step, slice: s });
      stats = out.batchStats;
      // Loss and error count in one kernel call where the backend has it (src/ops/softmax-cross-entropy.ts).
      const { loss: sliceLoss, wrong: sliceWrong } = softmaxCrossEntropy(out.logits, part.y);
      wrongTensor = tf.keep(sliceWrong);
      return sliceLoss;
    }, varList);
    loss += value.dataSync()[0] / slices;
    wrong += wrongTensor!.dataSync()[0];
    value.dispose();
    wrongTensor!.dispose();
    if (Number.isFinite(loss)) updateMovingStats(net, stats);
    disposeStats(stats);
    if (part !== batch) {
      part.x.dispose();
      part.y.dispose();
    }
    for (const [varName, g] of Object.entries(grads)) {
      const name = names.get(varName)!;
      const previous = summed.get(name);
      summed.set(name, previous ? addAndDispose(previous, g) : g);
    }
    if (!Number.isFinite(loss)) break;
    if (s < slices - 1) yield;
  }

  if (!Number.isFinite(loss)) {
    for (const g of summed.values()) g.dispose();
    return { loss, wrong };
  }
  if (slices > 1) {
    for (const [name, g] of summed) {
      summed.set(name, tf.tidy(() => tf.div(g, slices)));
      g.dispose();
    }
  }
  sgd.apply(summed, lr);
  return { loss, wrong };
}

function sliceBatch(batch: Batch, start: number, count: number): Batch {
  return {
    x: tf.slice(batch.x, [start, 0, 0, 0], [count, -1, -1, -1]),
    y: tf.slice(batch.y, [start], [count]),
  };
}

function addAndDispose(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const sum = tf.add(a, b);
  a.dispose();
  b.dispose();
  return sum;
}

function updateMovingStats(net: Network, stats: BatchStats[]): void {
  tf.tidy(() => {
    const layers = stats.map((s) => ({
      movingMean: net.params.get(`${s.layer}.movingMean`)!.variable,
      movingVariance: net.params.get(`${s.layer}.movingVariance`)!.variable,
      mean: s.mean,
      variance: s.variance,
      // The moving variance is the unbiased estimate, as in PyTorch and Caffe.
      correction: s.count / Math.max(1, s.count - 1),
    }));
    // One kernel call for every layer where the backend has it; the same float32 arithmetic either way.
    const next = movingAveragesMany(layers, BN_MOMENTUM);
    layers.forEach((l, i) => {
      l.movingMean.assign(next[i].mean);
      l.movingVariance.assign(next[i].variance);
    });
  });
}

function disposeStats(stats: BatchStats[]): void {
  for (const s of stats) {
    s.mean.dispose();
    s.variance.dispose();
  }
}
