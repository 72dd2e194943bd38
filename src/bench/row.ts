import { z } from 'zod';
import { variantSchema } from '../config/schema.js';

/** What every timed row has: how it ran and what one step (or iteration) cost. */
const timing = {
  backend: z.string(),
  batch: z.number().int().positive(),
  threads: z.number().int(),
  /** Median wall time of one step (forward + backward + SGD update), or of one lockstep iteration. */
  medianMs: z.number().positive(),
  /** Median CPU time of the same over all threads: at 1 thread, its time without waiting for a busy core. */
  cpuMs: z.number().positive().optional(),
  /** Images of the batch per second (in lockstep each image goes through every network). */
  imagesPerSec: z.number().positive(),
  /** 3 × forward multiply-adds (of all networks) × 2 FLOP × images/s: forward, input and filter gradient. */
  gflops: z.number().positive(),
  /** Timed steps the median is over. */
  steps: z.number().int().positive(),
};

/**
 * One measured configuration, as `bench --json` prints it and bench/pytorch_reference.py prints it too
 * (backend `pytorch`), so the comparison reads both with this schema.
 */
export const benchRowSchema = z.object({
  ...timing,
  variant: variantSchema,
  depth: z.number().int(),
  /** Images per gradient slice when the batch was split to fit memory (BN statistics per slice); else the batch. */
  microBatch: z.number().int().positive().optional(),
  params: z.number().int().positive().optional(),
});

export type BenchRow = z.infer<typeof benchRowSchema>;

/**
 * One measured lockstep workload (bench/lockstep-step.ts, and bench/pytorch_reference.py --lockstep): an
 * iteration is one training step of each network, in order, on the same batch, as `run` trains them.
 */
export const lockstepRowSchema = z.object({
  ...timing,
  /** Network ids in the order they step, e.g. plain-20, residual-20, plain-56, residual-56. */
  networks: z.array(z.string()).min(1),
  width: z.number().int().positive(),
});

export type LockstepRow = z.infer<typeof lockstepRowSchema>;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Training GFLOP/s: the backward pass costs two forward passes (input and filter gradients). */
export const trainingGflops = (macsPerImage: number, imagesPerSec: number): number => (3 * 2 * macsPerImage * imagesPerSec) / 1e9;

export interface Measured {
  backend: string;
  variant: BenchRow['variant'];
  depth: number;
  batch: number;
  threads: number;
  stepMs: readonly number[];
  cpuMs?: readonly number[];
  macsPerImage: number;
  params: number;
  microBatch: number;
}

export function toRow(m: Measured): BenchRow {
  const medianMs = median(m.stepMs);
  const imagesPerSec = (m.batch * 1000) / medianMs;
  return {
    backend: m.backend,
    variant: m.variant,
    depth: m.depth,
    batch: m.batch,
    threads: m.threads,
    medianMs: round(medianMs, 2),
    ...(m.cpuMs && m.cpuMs.length > 0 ? { cpuMs: round(median(m.cpuMs), 2) } : {}),
    imagesPerSec: round(imagesPerSec, 2),
    gflops: round(trainingGflops(m.macsPerImage, imagesPerSec), 3),
    steps: m.stepMs.length,
    microBatch: m.microBatch,
    params: m.params,
  };
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** A plain-text table for the terminal. */
export function formatRows(rows: readonly BenchRow[]): string {
  const header = ['backend', 'network', 'batch', 'threads', 'step ms', 'images/s', 'GFLOP/s', 'steps'];
  const body = rows.map((r) => [
    r.backend,
    `${r.variant}-${r.depth}`,
    r.microBatch !== undefined && r.microBatch < r.batch ? `${r.batch} (${r.microBatch}s)` : String(r.batch),
    String(r.threads),
    r.medianMs.toFixed(1),
    r.imagesPerSec.toFixed(1),
    r.gflops.toFixed(2),
    String(r.steps),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}
