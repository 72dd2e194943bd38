import os from 'node:os';
import type { BackendName } from '../config/schema.js';

/**
 * tfjs-backend-wasm 4.22 fails with "memory access out of bounds" once its heap passes 2 GiB (measured: ResNet-56
 * at batch 128 needs ~2.1 GiB of tensors and crashes; ResNet-20 at 128, ~0.8 GiB, trains). Keep a margin.
 */
export const WASM_HEAP_BUDGET = 1.5 * 2 ** 30;
/** Heap over live tensor bytes: the allocator's fragmentation (measured 1.1-1.3 on ResNet steps). */
const WASM_HEAP_OVERHEAD = 1.3;

/** Bytes a backend can give one training step's tensors. */
export function memoryBudget(backend: BackendName): number {
  return backend === 'wasm' ? WASM_HEAP_BUDGET / WASM_HEAP_OVERHEAD : os.freemem() * 0.8;
}

/**
 * The largest slice of the batch (a divisor, so every slice has the same size and BN statistics) whose step fits
 * the budget; undefined when not even one image fits.
 */
export function fittingMicroBatch(batch: number, bytesPerImage: number, budget: number): number | undefined {
  for (let slice = batch; slice >= 1; slice--) {
    if (batch % slice === 0 && slice * bytesPerImage <= budget) return slice;
  }
  return undefined;
}
