import os from 'node:os';
import { z } from 'zod';
import { backendNameSchema, depthSchema, variantSchema } from '../config/schema.js';

const positiveInt = z.number().int().positive();

/** What `resnet-exp bench` measures. Defaults: the paper's ResNet-20 and -56 pairs at batch 128 on the `auto` backend. */
export const benchOptionsSchema = z.strictObject({
  depths: z.array(depthSchema).min(1).default([20, 56]),
  variants: z.array(variantSchema).min(1).default(['plain', 'residual']),
  batch: positiveInt.default(128),
  /** `auto`: the backend a run would pick; `all`: every backend that loads here (cpu only with includeCpu). */
  backend: z.union([z.literal('auto'), z.literal('all'), backendNameSchema]).default('auto'),
  /** Timed steps; the median is reported. Fewer than 5 only for smoke tests. */
  steps: positiveInt.default(5),
  /** Untimed steps first (primitive caches, buffer pools, V8 tiering). */
  warmup: z.number().int().nonnegative().default(2),
  threads: positiveInt.default(os.availableParallelism()),
  /** Gradient-accumulation slices; default: the whole batch, or what fits the wasm heap. */
  microBatch: positiveInt.optional(),
  includeCpu: z.boolean().default(false),
  seed: z.number().int().default(1),
});

export type BenchOptions = z.infer<typeof benchOptionsSchema>;
export type BenchOptionsInput = z.input<typeof benchOptionsSchema>;
