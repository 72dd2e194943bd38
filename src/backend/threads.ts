import os from 'node:os';
import { err, ok, type Result } from '../result.js';

/**
 * How many threads a backend computes on, fixed for the whole run. oneDNN and our element-wise kernels split
 * sums over their threads, so a different count rounds differently: a run that must repeat bit for bit keeps
 * one count from its first step to its last, and a resumed run keeps the count it started with.
 */
export interface ThreadPlan {
  count: number;
  /**
   * Opt-in: let onednn drop threads while other processes keep cores busy (and take them back after). Faster on a
   * shared machine, but the curve then depends on what else ran: no bit-reproducibility.
   */
  adaptive: boolean;
}

/** What a config may ask for: a count, `adaptive`, or nothing (what the machine offers). */
export type ThreadsRequest = number | 'adaptive' | undefined;

/**
 * What this machine offers a process that chose nothing: OMP_NUM_THREADS when the user set it (its first entry,
 * as OpenMP reads a list), else the cores this process may run on (a taskset or a Slurm cpuset counts).
 */
export function machineThreads(env: NodeJS.ProcessEnv = process.env): Result<number, string> {
  const omp = env.OMP_NUM_THREADS?.trim();
  if (!omp) return ok(os.availableParallelism());
  const first = omp.split(',')[0].trim();
  const n = Number(first);
  if (!/^\d+$/.test(first) || !Number.isInteger(n) || n < 1) {
    return err(`OMP_NUM_THREADS=${env.OMP_NUM_THREADS}: expected a positive whole number of threads`);
  }
  return ok(n);
}

/** The plan a new run gets for its request. */
export function planThreads(request: ThreadsRequest, env: NodeJS.ProcessEnv = process.env): Result<ThreadPlan, string> {
  if (typeof request === 'number') return ok({ count: request, adaptive: false });
  const machine = machineThreads(env);
  if (!machine.ok) return machine;
  return ok({ count: machine.value, adaptive: request === 'adaptive' });
}
