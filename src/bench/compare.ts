import { median, type BenchRow, type LockstepRow } from './row.js';

/**
 * What bench:compare holds each backend to on this machine (issue 15): images/s over PyTorch's per training step
 * of one network, and per iteration of a lockstep workload (configs/fig6-cpu-long.json's four nets).
 */
export const TARGET_RATIO: Record<string, number> = { onednn: 1.2, wasm: 0.06 };
export const LOCKSTEP_TARGET_RATIO: Record<string, number> = { onednn: 1.5 };

export interface ComparedRow {
  backend: string;
  /** `residual-20`, or `lockstep:<network ids>:w<width>` for a lockstep workload. */
  network: string;
  batch: number;
  microBatch?: number;
  threads: number;
  medianMs: number;
  /** Median CPU time per step or iteration, all threads; undefined when not measured. */
  cpuMs?: number;
  imagesPerSec: number;
  gflops: number;
  /** Over PyTorch on the same network; undefined when PyTorch wasn't measured. */
  ratio?: number;
  /** PyTorch's CPU time over ours: at 1 thread, the ratio without waiting for cores other processes hold. */
  cpuRatio?: number;
  target?: number;
  /** Why there is no measurement. */
  failed?: string;
}

export interface Failure {
  backend: string;
  network: string;
  reason: string;
}

interface Timed {
  backend: string;
  batch: number;
  threads: number;
  medianMs: number;
  cpuMs?: number;
  imagesPerSec: number;
  gflops: number;
  microBatch?: number;
}

const networkKey = (r: { variant: string; depth: number }) => `${r.variant}-${r.depth}`;
export const lockstepKey = (r: { networks: readonly string[]; width: number }) => `lockstep:${r.networks.join(',')}:w${r.width}`;

/**
 * Per network and backend, the median over rounds of each round's median step, and its ratio to PyTorch's.
 * Rows come in network order, PyTorch first.
 */
export function compareRows(rows: readonly BenchRow[], failures: readonly Failure[], backends: readonly string[]): ComparedRow[] {
  return compareBy(rows, networkKey, failures, backends, TARGET_RATIO);
}

/** The same for lockstep workloads: one iteration is a step of every network. */
export function compareLockstep(rows: readonly LockstepRow[], failures: readonly Failure[], backends: readonly string[]): ComparedRow[] {
  return compareBy(rows, lockstepKey, failures, backends, LOCKSTEP_TARGET_RATIO);
}

function compareBy<R extends Timed>(
  rows: readonly R[],
  key: (r: R) => string,
  failures: readonly Failure[],
  backends: readonly string[],
  targets: Record<string, number>,
): ComparedRow[] {
  const networks = [...new Set([...rows.map(key), ...failures.map((f) => f.network)])];
  const out: ComparedRow[] = [];
  for (const network of networks) {
    const of = (backend: string) => rows.filter((r) => r.backend === backend && key(r) === network);
    const torch = of('pytorch');
    const torchRate = torch.length > 0 ? rateOf(torch) : undefined;
    const torchCpu = cpuOf(torch);
    for (const backend of ['pytorch', ...backends]) {
      const measured = of(backend);
      if (measured.length === 0) {
        const failure = failures.find((f) => f.backend === backend && f.network === network);
        if (failure) out.push({ backend, network, batch: 0, threads: 0, medianMs: NaN, imagesPerSec: NaN, gflops: NaN, failed: failure.reason });
        continue;
      }
      const medianMs = median(measured.map((r) => r.medianMs));
      const cpuMs = cpuOf(measured);
      const first = measured[0];
      const imagesPerSec = (first.batch * 1000) / medianMs;
      out.push({
        backend,
        network,
        batch: first.batch,
        microBatch: first.microBatch,
        threads: first.threads,
        medianMs,
        cpuMs,
        imagesPerSec,
        // GFLOP/s scale with the rate: the same per-image work in every round.
        gflops: (first.gflops * imagesPerSec) / first.imagesPerSec,
        ratio: torchRate === undefined ? undefined : imagesPerSec / torchRate,
        cpuRatio: torchCpu === undefined || cpuMs === undefined ? undefined : torchCpu / cpuMs,
        target: targets[backend],
      });
    }
  }
  return out;
}

const rateOf = (rows: readonly Timed[]): number => (rows[0].batch * 1000) / median(rows.map((r) => r.medianMs));

function cpuOf(rows: readonly Timed[]): number | undefined {
  const cpu = rows.map((r) => r.cpuMs).filter((c): c is number => c !== undefined);
  return cpu.length === rows.length && cpu.length > 0 ? median(cpu) : undefined;
}

const NETWORK_NAMES: Record<string, string> = { residual: 'ResNet', plain: 'plain', preact: 'pre-act ResNet' };

function networkLabel(network: string): string {
  if (network.startsWith('lockstep:')) {
    const [, ids, width] = network.split(':');
    return `lockstep ${ids.split(',').join(' + ')} (width ${width.slice(1)})`;
  }
  const [variant, depth] = network.split('-');
  return `${NETWORK_NAMES[variant] ?? variant}-${depth}`;
}

const times = (x: number | undefined): string => (x === undefined ? '–' : `${x.toFixed(2)}×`);

/** The README's table. */
export function markdownTable(rows: readonly ComparedRow[]): string {
  const lines = [
    '| network | engine | batch | threads | ms / step | CPU ms / step | images/s | GFLOP/s | × PyTorch | × PyTorch (CPU time) | target |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    if (r.failed !== undefined) {
      lines.push(`| ${networkLabel(r.network)} | ${r.backend} | | | | | failed: ${r.failed.replaceAll('|', '\\|')} | | | | ${target(r)} |`);
      continue;
    }
    const batch = r.microBatch !== undefined && r.microBatch < r.batch ? `${r.batch} (${r.batch / r.microBatch}×${r.microBatch})` : String(r.batch);
    const cpu = r.cpuMs === undefined ? '–' : r.cpuMs.toFixed(0);
    lines.push(
      `| ${networkLabel(r.network)} | ${r.backend} | ${batch} | ${r.threads} | ${r.medianMs.toFixed(0)} | ${cpu} | ${r.imagesPerSec.toFixed(1)} | ${r.gflops.toFixed(1)} | ${times(r.ratio)} | ${times(r.cpuRatio)} | ${target(r)} |`,
    );
  }
  return lines.join('\n');
}

function target(r: ComparedRow): string {
  if (r.target === undefined) return '';
  if (r.ratio === undefined) return `≥ ${r.target}×`;
  return `≥ ${r.target}× ${r.ratio >= r.target ? 'met' : 'missed'}`;
}
