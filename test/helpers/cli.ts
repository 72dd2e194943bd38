import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../../src/cli/io.js';

/** The repository root (tests run from dist/test/...). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const bin = join(repoRoot, 'bin', 'resnet-exp.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `bin/resnet-exp.js` as a user would, without a terminal. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, RESNET_EXP_DATA: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

export interface InProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** `emit('signal', 'SIGINT')` on it acts as a SIGINT sent to the command. */
  signals?: EventEmitter;
  /** Sees stderr as it is written (e.g. to send a signal once a step is logged). */
  onStderr?(text: string): void;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * The whole command line in this process (`main` with buffers for stdout/stderr), as `runCli` runs it in a
 * child: same arguments, cwd and environment, same exit code and output. Calls run one after another, in the
 * order made, even when a test starts several at once: TF.js's backend is process-wide state.
 */
export function runInProcess(args: string[], options: InProcessOptions = {}): Promise<CliResult> {
  const run = queue.then(async (): Promise<CliResult> => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: {
        write: (text: string) => {
          stderr += text;
          options.onStderr?.(text);
        },
      },
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, RESNET_EXP_DATA: '', ...options.env },
      onSignal(listener) {
        const signals = options.signals;
        if (!signals) return () => {};
        signals.on('signal', listener);
        return () => signals.off('signal', listener);
      },
      exit(code) {
        throw new Error(`the command tried to end the test process (exit ${code})`);
      },
    };
    // Loaded on first use: files that only spawn the bin don't pay for the CLI's modules.
    const { main } = await import('../../src/cli/main.js');
    const code = await main(args, io);
    return { code, signal: null, stdout, stderr };
  });
  queue = run.catch(() => undefined);
  return run;
}

export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'resnet-exp-test-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The smallest training that still exercises everything: synthetic data, depth 8, a few steps, on wasm. */
export const tinyRunArgs = (out: string, iterations = 6): string[] => [
  'run',
  'configs/smoke.json',
  '--set', 'data.source=synthetic',
  '--set', 'data.synthetic.train=64',
  '--set', 'data.synthetic.validation=32',
  '--set', 'train.batchSize=16',
  '--set', 'log.every=2',
  '--set', 'eval.every=3',
  '--depth', '8',
  '--iterations', String(iterations),
  '--backend', 'wasm',
  '--out', out,
  '--quiet',
];
