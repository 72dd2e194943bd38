import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';
import { z } from 'zod';
import { err, ok, type Result } from '../result.js';
import { independentStream, seededGenerator } from './rng.js';

const rngState = z.array(z.number().int().min(-0x80000000).max(0x7fffffff)).length(4);

/** Everything needed to resume the identical batch and augmentation sequence from a checkpoint. */
export const samplerStateSchema = z
  .object({
    version: z.literal(1),
    count: z.number().int().positive(),
    batchSize: z.number().int().positive(),
    /** Epoch of the permutation being consumed (0-based). */
    epoch: z.number().int().nonnegative(),
    /** Next position in that permutation, 0..count. */
    position: z.number().int().nonnegative(),
    /** Batches handed out so far. */
    step: z.number().int().nonnegative(),
    /** Shuffle RNG as it was *before* drawing the current permutation, which is rebuilt on restore. */
    shuffleRng: rngState,
    augmentRng: rngState,
  })
  .refine((s) => s.position <= s.count, { message: 'position must be at most count' });

export type SamplerState = z.infer<typeof samplerStateSchema>;

export interface SampledBatch {
  /** Dataset indices, always exactly batchSize of them. */
  readonly indices: Int32Array;
  /** Epoch (0-based, integer) that the batch's first index belongs to. */
  readonly epoch: number;
  /** Fractional epochs completed once this batch is consumed: samples drawn so far / count. */
  readonly epochsCompleted: number;
  /** 1-based number of this batch since the start of training. */
  readonly step: number;
}

/**
 * Seeded epoch-wise shuffling sampler. Every epoch is a fresh uniform permutation of 0..count-1. Every
 * batch is full: when an epoch has fewer than batchSize indices left, the batch is completed from the start
 * of the next epoch's permutation (nothing dropped, nothing repeated within the stream), so the nets being
 * compared always see identical, equally sized batches and an "iteration" means the same amount of data.
 *
 * It also owns the augmentation RNG, an independent stream derived from the same seed, so a single state
 * object in a checkpoint restores both the order of examples and the crops/flips applied to them.
 */
export class BatchSampler {
  readonly count: number;
  readonly batchSize: number;
  private augmentStream: JumpableRandomGenerator;
  private shuffleRng: JumpableRandomGenerator;
  private readonly permutation: Int32Array;
  private shuffleRngAtEpochStart: readonly number[] = [];
  private epoch: number;
  private position: number;
  private step: number;

  constructor(count: number, batchSize: number, seed: number) {
    BatchSampler.check(count, batchSize);
    const shuffleRng = seededGenerator(seed);
    const augmentRng = independentStream(shuffleRng);
    this.count = count;
    this.batchSize = batchSize;
    this.augmentStream = augmentRng;
    this.shuffleRng = shuffleRng;
    this.permutation = new Int32Array(count);
    this.epoch = 0;
    this.position = 0;
    this.step = 0;
    this.shuffle();
  }

  /** Pass this to augmentBatch; its state is saved with the sampler's. */
  get augmentRng(): JumpableRandomGenerator {
    return this.augmentStream;
  }

  private static check(count: number, batchSize: number): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    }
  }

  /** Fisher-Yates over the identity, so a permutation depends only on the RNG state at epoch start. */
  private shuffle(): void {
    this.shuffleRngAtEpochStart = this.shuffleRng.getState();
    const p = this.permutation;
    for (let i = 0; i < p.length; i++) p[i] = i;
    for (let i = p.length - 1; i > 0; i--) {
      const j = uniformInt(this.shuffleRng, 0, i);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
  }

  next(): SampledBatch {
    const indices = new Int32Array(this.batchSize);
    let filled = 0;
    let firstEpoch = -1;
    while (filled < this.batchSize) {
      if (this.position === this.count) {
        this.epoch++;
        this.position = 0;
        this.shuffle();
      }
      if (firstEpoch < 0) firstEpoch = this.epoch;
      const take = Math.min(this.batchSize - filled, this.count - this.position);
      indices.set(this.permutation.subarray(this.position, this.position + take), filled);
      filled += take;
      this.position += take;
    }
    this.step++;
    return {
      indices,
      epoch: firstEpoch,
      epochsCompleted: (this.epoch * this.count + this.position) / this.count,
      step: this.step,
    };
  }

  getState(): SamplerState {
    return {
      version: 1,
      count: this.count,
      batchSize: this.batchSize,
      epoch: this.epoch,
      position: this.position,
      step: this.step,
      shuffleRng: [...this.shuffleRngAtEpochStart],
      augmentRng: [...this.augmentRng.getState()],
    };
  }

  /** Restores a sampler from a checkpoint; `state` is validated, as it comes from a file. */
  static fromState(state: unknown): Result<BatchSampler, string> {
    const parsed = samplerStateSchema.safeParse(state);
    if (!parsed.success) return err(`invalid sampler state: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
    const s = parsed.data;
    // The seed is irrelevant: every stream is overwritten, and the permutation redrawn from its saved RNG.
    const sampler = new BatchSampler(s.count, s.batchSize, 0);
    sampler.augmentStream = xoroshiro128plusFromState(s.augmentRng);
    sampler.shuffleRng = xoroshiro128plusFromState(s.shuffleRng);
    sampler.epoch = s.epoch;
    sampler.position = s.position;
    sampler.step = s.step;
    sampler.shuffle();
    return ok(sampler);
  }
}
