import * as tf from '@tensorflow/tfjs-core';
import type { Network } from '../models/network.js';
import { softmaxCrossEntropy } from '../ops/softmax-cross-entropy.js';
import { runToEnd, type Batch } from './step.js';

export interface Evaluation {
  loss: number;
  /** Fraction misclassified, in [0, 1]. */
  error: number;
}

/** Loss and error over a whole set, batch norm using its moving statistics. */
export function evaluate(net: Network, batches: Iterable<Batch>): Evaluation {
  return runToEnd(evaluateParts(net, batches));
}

/** evaluate, pausing after each batch so that a caller can let the event loop run between them. */
export function* evaluateParts(net: Network, batches: Iterable<Batch>): Generator<void, Evaluation> {
  let lossSum = 0;
  let wrong = 0;
  let count = 0;
  for (const batch of batches) {
    const n = batch.x.shape[0];
    const [loss, w] = tf.tidy(() => {
      const { logits } = net.forward(batch.x, 'eval');
      const out = softmaxCrossEntropy(logits, batch.y);
      return [out.loss.dataSync()[0], out.wrong.dataSync()[0]];
    });
    lossSum += loss * n;
    wrong += w;
    count += n;
    yield;
  }
  return { loss: lossSum / Math.max(1, count), error: wrong / Math.max(1, count) };
}
