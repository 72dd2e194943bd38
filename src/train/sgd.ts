import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../models/params.js';
import { sgdMomentumUpdates, type SgdMomentumItem } from '../ops/sgd-momentum.js';

export interface SgdOptions {
  momentum: number;
  /** Applied to kernels only: BN scale/shift and biases are not decayed. */
  weightDecay: number;
}

/**
 * SGD with momentum as PyTorch does it (the reference we measure against): g ← ∇ + λ·w for kernels,
 * v ← μ·v + g, w ← w − lr·v.
 */
export class Sgd {
  private readonly velocity = new Map<string, tf.Variable>();

  constructor(
    private readonly params: Param[],
    private readonly options: SgdOptions,
  ) {}

  /** `grads` by parameter name; consumed (disposed) here. */
  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    const { momentum, weightDecay } = this.options;
    tf.tidy(() => {
      const updates: (SgdMomentumItem & { p: Param; v: tf.Variable })[] = [];
      for (const p of this.params) {
        const grad = grads.get(p.name);
        if (!grad) continue;
        const decay = p.role === 'kernel' ? weightDecay : 0;
        const v = this.velocity.get(p.name);
        if (v) {
          updates.push({ w: p.variable, v, g: grad, weightDecay: decay, p });
          continue;
        }
        const g = decay > 0 ? tf.add(grad, tf.mul(p.variable, decay)) : grad;
        this.velocity.set(p.name, tf.keep(tf.variable(g, false)));
        p.variable.assign(tf.sub(p.variable, tf.mul(this.velocity.get(p.name)!, lr)));
      }
      // One fused kernel for all parameters where the backend has it; the same float32 arithmetic either way.
      const next = sgdMomentumUpdates(updates, lr, momentum);
      updates.forEach((u, i) => {
        u.v.assign(next[i].v);
        u.p.variable.assign(next[i].w);
      });
    });
    for (const g of grads.values()) g.dispose();
  }

  /** Momentum buffers by parameter name (for checkpoints). */
  state(): Map<string, tf.Variable> {
    return this.velocity;
  }

  restore(buffers: Map<string, tf.Tensor>): void {
    this.dispose();
    for (const [name, t] of buffers) this.velocity.set(name, tf.variable(t, false));
  }

  dispose(): void {
    for (const v of this.velocity.values()) v.dispose();
    this.velocity.clear();
  }
}
