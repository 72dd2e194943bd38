import type * as tf from '@tensorflow/tfjs-core';
import type { Block, BlockOptions } from './blocks.js';
import type { ForwardContext } from './context.js';

export interface StageOptions extends Omit<BlockOptions, 'stride'> {
  block: Block;
  /** One stride per block, as the paper's table reads: [2, 1, 1, …] halves the map in the first block only. */
  strides: readonly (1 | 2)[];
}

/** A stage: its blocks in sequence, named `<stage>.block1`, `<stage>.block2`, … */
export function stage(ctx: ForwardContext, name: string, x: tf.Tensor4D, o: StageOptions): tf.Tensor4D {
  const { block, strides, ...options } = o;
  return strides.reduce((h, stride, i) => block(ctx, `${name}.block${i + 1}`, h, { ...options, stride }), x);
}

/** The strides of a stage of n blocks whose first block has stride `first`: [first, 1, …, 1]. */
export const stageStrides = (first: 1 | 2, n: number): (1 | 2)[] => [first, ...Array<1>(n - 1).fill(1)];
