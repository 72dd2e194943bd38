import * as tf from '@tensorflow/tfjs-core';

/**
 * A tiny convolution forward and backward (stride 2, 'same': the case backends most often get wrong), as numbers.
 * Deterministic inputs, so two backends can be compared value by value.
 */
export function convProbe(): number[] {
  return tf.tidy(() => {
    const ramp = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.sin(i * k));
    const x = tf.tensor4d(ramp(2 * 7 * 7 * 3, 0.37), [2, 7, 7, 3]);
    const w = tf.tensor4d(ramp(3 * 3 * 3 * 4, 0.61), [3, 3, 3, 4]);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))),
    )([x, w]);
    return [...dx.dataSync(), ...dw.dataSync()];
  });
}

export function maxRelativeError(actual: number[], expected: number[]): number {
  const scale = Math.max(1e-6, ...expected.map(Math.abs));
  return actual.reduce((worst, a, i) => Math.max(worst, Math.abs(a - expected[i]) / scale), 0);
}
