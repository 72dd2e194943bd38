import * as tf from '@tensorflow/tfjs-core';

/**
 * One SGD-with-momentum update of one parameter, as PyTorch does it: g ← ∇ + λ·w (λ > 0 for kernels only),
 * v ← μ·v + g, w ← w − lr·v. Spelled as TF.js ops that is up to six kernel calls per parameter (each with its
 * JS bookkeeping, which outweighs the arithmetic for BN's few channels); a backend may do it in one.
 *
 * Kernel contract: SGD_MOMENTUM, inputs {w, v, g} of one shape, attrs {lr, momentum, weightDecay}; outputs
 * [w', v']. Each step rounds to float32 as the separate ops do (no fused multiply-add), so the result is the
 * composite's to the bit.
 */
export const SGD_MOMENTUM = 'ResnetExpSgdMomentum';

export interface SgdMomentumAttrs {
  lr: number;
  momentum: number;
  /** 0: no decay term at all (not even + 0·w). */
  weightDecay: number;
}

export function sgdMomentumUpdate(w: tf.Tensor, v: tf.Tensor, g: tf.Tensor, a: SgdMomentumAttrs): { w: tf.Tensor; v: tf.Tensor } {
  if (tf.getKernel(SGD_MOMENTUM, tf.getBackend()) !== undefined) {
    const [w2, v2] = tf.engine().runKernel(SGD_MOMENTUM, { w, v, g }, a as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { w: w2, v: v2 };
  }
  const decayed = a.weightDecay > 0 ? tf.add(g, tf.mul(w, a.weightDecay)) : g;
  const v2 = tf.add(tf.mul(v, a.momentum), decayed);
  return { w: tf.sub(w, tf.mul(v2, a.lr)), v: v2 };
}
