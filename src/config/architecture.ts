import { z } from 'zod';

// The names a network is built from, apart from the schema that uses them, so that config/net-size.ts can count
// any network by them without importing the schema that imports it.

/**
 * The units the networks can be built from, in the order reports list them. plain, residual: He et al. 2015.
 * The rest are the 2016 paper's ("Identity Mappings in Deep Residual Networks"): the shortcuts of its Fig. 2
 * (b–f) / Table 1 on the original unit, the activation orders of its Fig. 4 (b–d), and preact, its full
 * pre-activation unit (Fig. 4e).
 */
export const VARIANTS = [
  'plain',
  'residual',
  'constant-scaling',
  'exclusive-gating',
  'shortcut-gating',
  'conv-shortcut',
  'dropout-shortcut',
  'bn-after-add',
  'relu-before-add',
  'relu-preact',
  'preact',
] as const;
export const variantSchema = z.enum(VARIANTS);
export type Variant = z.infer<typeof variantSchema>;

/**
 * cifar: a 3x3 stem and three stages (2015, section 4.2); imagenet: a 7x7/2 stem, a 3x3/2 max-pool and four
 * stages of its Table 1 (18, 34, 50, 101, 152 layers), for any input size.
 */
export const FAMILIES = ['cifar', 'imagenet'] as const;
export const familySchema = z.enum(FAMILIES);
export type Family = z.infer<typeof familySchema>;

/** basic: two 3x3 convs (2015, Fig. 5 left); bottleneck: 1x1 reduce, 3x3, 1x1 expand ×4 (Fig. 5 right). */
export const BLOCK_KINDS = ['basic', 'bottleneck'] as const;
export const blockKindSchema = z.enum(BLOCK_KINDS);
export type BlockKind = z.infer<typeof blockKindSchema>;

/**
 * How a shortcut matches dimensions (2015, section 3.3 and Table 3). A: zero-padded identity; B: 1x1 projection
 * where dimensions change; C: 1x1 projection on every block; conv3x3-bn: a 3x3 conv and BN where they change.
 */
export const SHORTCUT_OPTIONS = ['A', 'B', 'C', 'conv3x3-bn'] as const;
export const shortcutOptionSchema = z.enum(SHORTCUT_OPTIONS);
export type ShortcutOption = z.infer<typeof shortcutOptionSchema>;
