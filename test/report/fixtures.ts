import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Variant } from '../../src/config/schema.js';
import { MetricsCsv, type MetricsRow } from '../../src/record/metrics-csv.js';
import { runInProcess, type CliResult } from '../helpers/cli.js';

/** The command line in this process, from `cwd`. */
export const cli = (args: string[], cwd?: string): Promise<CliResult> => runInProcess(args, { cwd, env: { NO_COLOR: '1' } });

export async function withTempDir<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'resnet-exp-report-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One network's curve in a fixture run: training error `early` until the last 10% of the run, `final` (a
 * value or one per remaining row) after; test error every `evalEvery` steps from `test` (step → error).
 */
export interface FixtureNet {
  variant: Variant;
  depth: number;
  early?: number;
  final: number | number[];
  test?: Record<number, number>;
  params?: number;
  diverged?: boolean;
}

export interface FixtureRun {
  seed: number;
  iterations: number;
  logEvery: number;
  nets: FixtureNet[];
  name?: string;
}

/** Rows for every logging point, through the real writer, plus the config.json and summary.json the runner writes. */
export function writeRun(dir: string, runs: FixtureRun | FixtureRun[]): string {
  mkdirSync(dir, { recursive: true });
  const list = Array.isArray(runs) ? runs : [runs];
  const csv = new MetricsCsv(join(dir, 'metrics.csv'));
  const networks: { variant: string; depth: number; params: number; seed: number }[] = [];
  for (const run of list) {
    const steps: number[] = [];
    for (let s = run.logEvery; s < run.iterations; s += run.logEvery) steps.push(s);
    steps.push(run.iterations);
    const cutoff = run.iterations * 0.9;
    for (const net of run.nets) {
      networks.push({ variant: net.variant, depth: net.depth, params: net.params ?? 1000 * net.depth, seed: run.seed });
      let late = 0;
      const rows: MetricsRow[] = [];
      for (const step of steps) {
        // A diverged network's last row comes halfway, with a NaN loss, and it has no rows after.
        if (net.diverged && step > run.iterations / 2) break;
        const divergesHere = net.diverged === true && step + run.logEvery > run.iterations / 2;
        const inWindow = step > cutoff;
        const trainError = inWindow ? (Array.isArray(net.final) ? net.final[late++] : net.final) : (net.early ?? 0.9);
        const test = net.test?.[step] ?? null;
        rows.push({
          seed: run.seed,
          variant: net.variant,
          depth: net.depth,
          step,
          epoch: step / 10,
          lr: 0.1,
          train_loss: divergesHere ? Number.NaN : trainError * 2,
          train_error: trainError,
          test_loss: test === null ? null : test * 2,
          test_error: test,
          images_per_sec: 100,
          wall_seconds: step,
          status: divergesHere ? 'diverged' : step === run.iterations ? 'done' : 'training',
        });
      }
      csv.append(rows);
    }
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ name: list[0].name ?? 'fixture', seed: list[0].seed }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ seed: list[0].seed, networks }));
  return dir;
}

/** Four nets (plain and residual at 20 and 56) with the given final training errors, one seed. */
export function fourNets(seed: number, final: { p20: number; p56: number; r20: number; r56: number }): FixtureRun {
  return {
    seed,
    iterations: 100,
    logEvery: 5,
    nets: [
      { variant: 'plain', depth: 20, final: final.p20, test: { 50: 0.5, 100: 0.4 + 0.01 * seed } },
      { variant: 'plain', depth: 56, final: final.p56, test: { 50: 0.6, 100: 0.55 } },
      { variant: 'residual', depth: 20, final: final.r20, test: { 50: 0.4, 100: 0.42 } },
      { variant: 'residual', depth: 56, final: final.r56, test: { 50: 0.45, 100: 0.41 } },
    ],
  };
}
