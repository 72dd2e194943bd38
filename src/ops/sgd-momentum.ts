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

/**
 * Many parameters' updates in one kernel call: a width-8 CIFAR net has up to ~170 parameters, most of a few
 * dozen floats, so per-call bookkeeping outweighs the arithmetic.
 *
 * Kernel contract: SGD_MOMENTUM_MULTI, inputs {w0, v0, g0, w1, v1, g1, …} (each triple of one shape), attrs
 * {lr, momentum, weightDecays} (one decay per triple); outputs [w0', v0', w1', v1', …], each pair SGD_MOMENTUM's
 * to the bit. Backends without it run SGD_MOMENTUM (or its composite) per parameter.
 */
export const SGD_MOMENTUM_MULTI = 'ResnetExpSgdMomentumMulti';

export interface SgdMomentumMultiAttrs {
  lr: number;
  momentum: number;
  weightDecays: number[];
}

export interface SgdMomentumItem {
  w: tf.Tensor;
  v: tf.Tensor;
  g: tf.Tensor;
  weightDecay: number;
}

export function sgdMomentumUpdates(items: SgdMomentumItem[], lr: number, momentum: number): { w: tf.Tensor; v: tf.Tensor }[] {
  if (items.length === 0) return [];
  if (tf.getKernel(SGD_MOMENTUM_MULTI, tf.getBackend()) === undefined) {
    return items.map((it) => sgdMomentumUpdate(it.w, it.v, it.g, { lr, momentum, weightDecay: it.weightDecay }));
  }
  const inputs: tf.NamedTensorMap = {};
  items.forEach((it, i) => {
    inputs[`w${i}`] = it.w;
    inputs[`v${i}`] = it.v;
    inputs[`g${i}`] = it.g;
  });
  const attrs: SgdMomentumMultiAttrs = { lr, momentum, weightDecays: items.map((it) => it.weightDecay) };
  const out = tf.engine().runKernel(SGD_MOMENTUM_MULTI, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return items.map((_, i) => ({ w: out[2 * i], v: out[2 * i + 1] }));
}
