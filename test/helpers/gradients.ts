import * as tf from '@tensorflow/tfjs-core';
import type { Network } from '../../src/models/network.js';

/**
 * One training-mode forward and backward pass of `net` on (x, labels): the loss (under 'loss') and every trainable
 * parameter's gradient by parameter name, read back as arrays. Batch statistics are dropped; nothing is updated.
 */
export function trainingGradients(net: Network, x: tf.Tensor4D, labels: tf.Tensor, step: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const trainable = net.params.trainable();
  const { value, grads } = tf.variableGrads(() => {
    const { logits, batchStats } = net.forward(x, 'train', { step });
    tf.dispose(batchStats.flatMap((s) => [s.mean, s.variance]));
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  }, trainable.map((p) => p.variable));
  out.set('loss', value.dataSync() as Float32Array);
  for (const p of trainable) out.set(p.name, grads[p.variable.name].dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}
