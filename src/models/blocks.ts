import * as tf from '@tensorflow/tfjs-core';
import { ABLATION_DEFAULTS, type Ablation, type BlockKind, type Variant } from '../config/schema.js';
import type { ForwardContext } from './context.js';
import { batchNorm, type BatchNormOptions } from './layers.js';
import { blockOutputs, postActivationF, preActivation, preActivationF, weightLayers } from './residual-function.js';
import { addShortcut, type ShortcutKind } from './shortcut-kinds.js';
import { shapeChanges, shortcut, type ShortcutOption } from './shortcuts.js';

export interface BlockOptions {
  /** The block's width: its output channels, or a bottleneck's inner channels (its output has 4×). */
  filters: number;
  /** 2 in the first block of stages 2 and 3, which halves the feature map and doubles the filters. */
  stride: 1 | 2;
  /** basic unless given. */
  kind?: BlockKind;
  shortcut: ShortcutOption;
  /** The 2016 ablations' constants (constant scaling, gates, dropout); the paper's unless given. */
  ablation?: Ablation;
}

/** A block is a function of its input: y = block(x). */
export type Block = (ctx: ForwardContext, name: string, x: tf.Tensor4D, o: BlockOptions) => tf.Tensor4D;

const layersOf = (o: BlockOptions) => weightLayers(o.kind ?? 'basic', o.filters, o.stride);
const outputsOf = (o: BlockOptions) => blockOutputs(o.kind ?? 'basic', o.filters);

/**
 * F(x) with BN after each conv and ReLU between them (2015); `after` is what the block does right after F (add
 * the shortcut, ReLU), handed to F's last BN so that training runs it in the same fused kernel.
 */
const F = (ctx: ForwardContext, name: string, x: tf.Tensor4D, o: BlockOptions, after: BatchNormOptions = {}) =>
  postActivationF(ctx, name, x, layersOf(o), { after });
/** s(x) (shortcuts.ts), taken from `x`. */
const s = (ctx: ForwardContext, name: string, x: tf.Tensor4D, o: BlockOptions) =>
  shortcut(ctx, `${name}.shortcut`, x, outputsOf(o), o.stride, o.shortcut);

/** Plain: y = ReLU(F(x)). The same layers as the residual block, no shortcut. */
export const plainBlock: Block = (ctx, name, x, o) => F(ctx, name, x, o, { relu: true });

/**
 * Residual (He et al. 2015, Fig. 2; 2016, Fig. 4a "original"): y = ReLU(F(x) + s(x)), the addition and ReLU done
 * by F's last BN (s is made after that BN's parameters, as when added outside).
 */
export const residualBlock: Block = (ctx, name, x, o) => F(ctx, name, x, o, { residual: () => s(ctx, name, x, o), relu: true });

/**
 * Full pre-activation (He et al. 2016, Fig. 4e): y = F(x) + s(x) with F = conv(ReLU(BN(conv(ReLU(BN(x)))))),
 * nothing after the addition, so the identity path is clean. Where the shape changes, the shortcut takes the
 * pre-activated input, as the authors' code does for its projection shortcuts.
 */
export const preactBlock: Block = (ctx, name, x, o) => {
  const preactivated = preActivation(ctx, `${name}.bn1`, x);
  const f = preActivationF(ctx, name, preactivated, layersOf(o));
  return tf.add<tf.Tensor4D>(f, s(ctx, name, shapeChanges(x, outputsOf(o), o.stride) ? preactivated : x, o));
};

/** The 2016 paper's Fig. 2 (b–d, f): the original unit, y = ReLU(F(x) ⊕ s(x)), with F and s scaled as `kind` says. */
const originalWith =
  (kind: ShortcutKind): Block =>
  (ctx, name, x, o) => {
    const f = F(ctx, name, x, o);
    const sum = { x, stride: o.stride, f, s: s(ctx, name, x, o) };
    return tf.relu(addShortcut(ctx, name, sum, kind, o.ablation ?? ABLATION_DEFAULTS));
  };

/** Fig. 2e: the 1x1 conv shortcut, option C: a projection on every block. */
export const convShortcutBlock: Block = (ctx, name, x, o) => residualBlock(ctx, name, x, { ...o, shortcut: 'C' });

/** Fig. 4b, BN after addition: y = ReLU(BN(F'(x) + s(x))), F' without the BN of its last conv. */
export const bnAfterAddBlock: Block = (ctx, name, x, o) => {
  const f = postActivationF(ctx, name, x, layersOf(o), { lastBn: false });
  return batchNorm(ctx, `${name}.bnAfterAdd`, tf.add<tf.Tensor4D>(f, s(ctx, name, x, o)), { relu: true });
};

/** Fig. 4c, ReLU before addition: y = ReLU(F(x)) + s(x). */
export const reluBeforeAddBlock: Block = (ctx, name, x, o) => tf.add<tf.Tensor4D>(F(ctx, name, x, o, { relu: true }), s(ctx, name, x, o));

/**
 * Fig. 4d, ReLU-only pre-activation: y = F(ReLU(x)) + s(x), F the original conv → BN → ReLU → conv → BN; where
 * the shape changes the shortcut takes ReLU(x), as the full pre-activation unit shares its activation.
 */
export const reluPreactBlock: Block = (ctx, name, x, o) => {
  const activated = tf.relu(x);
  const f = F(ctx, name, activated, o);
  return tf.add<tf.Tensor4D>(f, s(ctx, name, shapeChanges(x, outputsOf(o), o.stride) ? activated : x, o));
};

/**
 * A variant's unit and what the network puts around the units: after the stem conv, the activation the first
 * unit expects (none for full pre-activation, whose units begin with BN-ReLU; BN for the ReLU-only one); before
 * pooling, the activation the last unit does not give its own output (2016, appendix).
 */
export interface Unit {
  block: Block;
  afterStem: 'bn-relu' | 'bn' | 'none';
  beforePool: 'none' | 'relu' | 'bn-relu';
}

const post = (block: Block): Unit => ({ block, afterStem: 'bn-relu', beforePool: 'none' });

export const UNITS: Record<Variant, Unit> = {
  plain: post(plainBlock),
  residual: post(residualBlock),
  preact: { block: preactBlock, afterStem: 'none', beforePool: 'bn-relu' },
  'constant-scaling': post(originalWith('constant-scaling')),
  'exclusive-gating': post(originalWith('exclusive-gating')),
  'shortcut-gating': post(originalWith('shortcut-gating')),
  'conv-shortcut': post(convShortcutBlock),
  'dropout-shortcut': post(originalWith('dropout')),
  'bn-after-add': post(bnAfterAddBlock),
  'relu-before-add': post(reluBeforeAddBlock),
  'relu-preact': { block: reluPreactBlock, afterStem: 'bn', beforePool: 'relu' },
};
