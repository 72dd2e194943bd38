import * as tf from '@tensorflow/tfjs-core';

/** How a parameter is trained: kernels get weight decay, BN scale/shift and biases don't; moving stats aren't trained. */
export type ParamRole = 'kernel' | 'bias' | 'bn-scale' | 'bn-shift' | 'bn-moving';

export interface Param {
  name: string;
  role: ParamRole;
  variable: tf.Variable;
}

/**
 * A network's parameters by layer name (e.g. `stage2.block1.conv1.kernel`). Created on the network's first
 * forward pass, so the model code only has to say what each layer is, once.
 */
export class ParamStore {
  private readonly byName = new Map<string, Param>();

  constructor(private readonly seed: number) {}

  get(name: string): Param | undefined {
    return this.byName.get(name);
  }

  getOrCreate(name: string, role: ParamRole, init: (seed: number) => tf.Tensor): tf.Variable {
    const existing = this.byName.get(name);
    if (existing) return existing.variable;
    // Variables outlive the tidy scope of the forward pass that creates them.
    const variable = tf.tidy(() => tf.variable(init(layerSeed(this.seed, name)), role !== 'bn-moving'));
    this.byName.set(name, { name, role, variable });
    return variable;
  }

  all(): Param[] {
    return [...this.byName.values()];
  }

  trainable(): Param[] {
    return this.all().filter((p) => p.role !== 'bn-moving');
  }

  dispose(): void {
    for (const p of this.byName.values()) p.variable.dispose();
    this.byName.clear();
  }
}

/**
 * A per-layer seed from the run seed and the layer's name: layers of the same name and shape start from the same
 * weights in every variant, so plain and residual twins differ only by their shortcuts.
 */
export function layerSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
