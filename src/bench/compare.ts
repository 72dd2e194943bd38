import { median, type BenchRow } from './row.js';

/** What bench:compare holds each backend to on this machine (issue 3): images/s over PyTorch's. */
export const TARGET_RATIO: Record<string, number> = { onednn: 0.7, wasm: 0.06 };

export interface ComparedRow {
  backend: string;
  network: string;
  batch: number;
  microBatch?: number;
  threads: number;
  medianMs: number;
  imagesPerSec: number;
  gflops: number;
  /** Over PyTorch on the same network; undefined when PyTorch wasn't measured. */
  ratio?: number;
  target?: number;
  /** Why there is no measurement. */
  failed?: string;
}

export interface Failure {
  backend: string;
  network: string;
  reason: string;
}

const key = (r: { variant: string; depth: number }) => `${r.variant}-${r.depth}`;

/**
 * Per network and backend, the median over rounds of each round's median step, and its ratio to PyTorch's.
 * Rows come in network order, PyTorch first.
 */
export function compareRows(rows: readonly BenchRow[], failures: readonly Failure[], backends: readonly string[]): ComparedRow[] {
  const networks = [...new Set([...rows.map(key), ...failures.map((f) => f.network)])];
  const out: ComparedRow[] = [];
  for (const network of networks) {
    const of = (backend: string) => rows.filter((r) => r.backend === backend && key(r) === network);
    const torch = of('pytorch');
    const torchRate = torch.length > 0 ? rateOf(torch) : undefined;
    for (const backend of ['pytorch', ...backends]) {
      const measured = of(backend);
      if (measured.length === 0) {
        const failure = failures.find((f) => f.backend === backend && f.network === network);
        if (failure) out.push({ backend, network, batch: 0, threads: 0, medianMs: NaN, imagesPerSec: NaN, gflops: NaN, failed: failure.reason });
        continue;
      }
      const medianMs = median(measured.map((r) => r.medianMs));
      const first = measured[0];
      const imagesPerSec = (first.batch * 1000) / medianMs;
      out.push({
        backend,
        network,
        batch: first.batch,
        microBatch: first.microBatch,
        threads: first.threads,
        medianMs,
        imagesPerSec,
        // GFLOP/s scale with the rate: the same per-image work in every round.
        gflops: (first.gflops * imagesPerSec) / first.imagesPerSec,
        ratio: torchRate === undefined ? undefined : imagesPerSec / torchRate,
        target: TARGET_RATIO[backend],
      });
    }
  }
  return out;
}

const rateOf = (rows: BenchRow[]): number => (rows[0].batch * 1000) / median(rows.map((r) => r.medianMs));

const NETWORK_NAMES: Record<string, string> = { residual: 'ResNet', plain: 'plain', preact: 'pre-act ResNet' };

function networkLabel(network: string): string {
  const [variant, depth] = network.split('-');
  return `${NETWORK_NAMES[variant] ?? variant}-${depth}`;
}

/** The README's table. */
export function markdownTable(rows: readonly ComparedRow[]): string {
  const lines = [
    '| network | engine | batch | threads | ms / step | images/s | GFLOP/s | × PyTorch | target |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    if (r.failed !== undefined) {
      lines.push(`| ${networkLabel(r.network)} | ${r.backend} | | | | failed: ${r.failed.replaceAll('|', '\\|')} | | | ${target(r)} |`);
      continue;
    }
    const batch = r.microBatch !== undefined && r.microBatch < r.batch ? `${r.batch} (${r.batch / r.microBatch}×${r.microBatch})` : String(r.batch);
    const ratio = r.ratio === undefined ? '–' : `${r.ratio.toFixed(2)}×`;
    lines.push(
      `| ${networkLabel(r.network)} | ${r.backend} | ${batch} | ${r.threads} | ${r.medianMs.toFixed(0)} | ${r.imagesPerSec.toFixed(1)} | ${r.gflops.toFixed(1)} | ${ratio} | ${target(r)} |`,
    );
  }
  return lines.join('\n');
}

function target(r: ComparedRow): string {
  if (r.target === undefined) return '';
  if (r.ratio === undefined) return `≥ ${r.target}×`;
  return `≥ ${r.target}× ${r.ratio >= r.target ? 'met' : 'missed'}`;
}
