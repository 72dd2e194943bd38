import * as tf from '@tensorflow/tfjs-core';
import type { Ablation } from '../config/schema.js';
import type { ForwardContext } from './context.js';
import { bias, conv } from './layers.js';
import { layerSeed } from './params.js';

/**
 * The shortcut kinds of He et al. 2016, section 3.1 (Fig. 2, Table 1): what multiplies the shortcut s(x) and the
 * residual function F(x) before they are added. `identity` is the original unit's, 1 on both; the 1x1 conv
 * shortcut of Fig. 2e is option C (shortcuts.ts).
 */
export type ShortcutKind = 'identity' | 'constant-scaling' | 'exclusive-gating' | 'shortcut-gating' | 'dropout';

export interface Sum {
  /** The block's input, from which a gate is computed. */
  x: tf.Tensor4D;
  stride: 1 | 2;
  f: tf.Tensor4D;
  s: tf.Tensor4D;
}

/** F(x) and s(x) added, each scaled as `kind` says. */
export function addShortcut(ctx: ForwardContext, name: string, { x, stride, f, s }: Sum, kind: ShortcutKind, a: Ablation): tf.Tensor4D {
  switch (kind) {
    case 'identity':
      return tf.add(f, s);
    // Fig. 2b: λ on the shortcut, and 1 − λ (or 1) on F: a gate frozen open.
    case 'constant-scaling':
      return tf.add(tf.mul(f, a.residualScale), tf.mul(s, a.shortcutScale));
    // Fig. 2c: g(x) on F and 1 − g(x) on the shortcut, as in Highway networks.
    case 'exclusive-gating': {
      const g = gate(ctx, name, x, f.shape[3], stride, a.gateBias);
      return tf.add(tf.mul(f, g), tf.mul(s, tf.sub(1, g)));
    }
    // Fig. 2d: 1 − g(x) on the shortcut only.
    case 'shortcut-gating': {
      const g = gate(ctx, name, x, f.shape[3], stride, a.gateBias);
      return tf.add(f, tf.mul(s, tf.sub(1, g)));
    }
    // Fig. 2f: dropout on the shortcut's output.
    case 'dropout':
      return tf.add(f, dropout(ctx, `${name}.shortcut`, s, a.dropout));
  }
}

/**
 * g(x) = σ(W_g x + b_g), a 1x1 conv with a bias and a sigmoid, one gate per value of the block's output. The
 * bias starts at b_g: very negative keeps 1 − g(x) near 1, the shortcut near the identity, which the paper found
 * essential (−6 best for both gated kinds; 0 left shortcut-only gating at 12.86% error).
 */
function gate(ctx: ForwardContext, name: string, x: tf.Tensor4D, filters: number, stride: 1 | 2, initialBias: number): tf.Tensor4D {
  const z = conv(ctx, `${name}.gate`, x, { filters, kernel: 1, stride, shortcut: true });
  return tf.sigmoid(bias(ctx, `${name}.gate`, z, initialBias));
}

/**
 * Inverted dropout (values kept are scaled by 1/(1 − rate)) while training, the identity at evaluation. The mask
 * is drawn from the pass's seed and the layer's name, so a run and its resumed copy draw the same masks.
 */
function dropout(ctx: ForwardContext, name: string, s: tf.Tensor4D, rate: number): tf.Tensor4D {
  if (ctx.mode === 'eval' || rate === 0) return s;
  if (ctx.drawSeed === undefined) throw new Error(`${name}: a training pass through a dropout shortcut needs a draw seed`);
  return tf.dropout(s, rate, undefined, layerSeed(ctx.drawSeed, name)) as tf.Tensor4D;
}
