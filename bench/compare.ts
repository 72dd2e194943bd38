/**
 * `npm run bench:compare`: times the same training step in PyTorch (bench/pytorch_reference.py) and on each of our
 * usable backends (`resnet-exp bench`), and prints each backend's images/s as a ratio to PyTorch's.
 *
 *   npm run bench:compare -- [--depths 20,56] [--variants residual] [--batch 128] [--steps 5] [--warmup 2]
 *                            [--threads CORES] [--backends onednn,wasm] [--rounds 1] [--python /usr/bin/python3] [--json]
 *   npm run bench:compare -- --lockstep configs/fig6-cpu-long.json [--steps 5] [--warmup 2] [--threads CORES] ...
 *
 * --lockstep times a config's lockstep workload instead: one iteration is one training step of every network the
 * config trains (fig6-cpu-long: plain and residual at 20 and 56 layers, width 8, batch 32), on the same batch,
 * with the config's SGD; ours by bench/lockstep-step.js, PyTorch's by pytorch_reference.py --lockstep.
 *
 * Both tables give CPU time per step (all threads) next to wall time: on a machine other processes keep busy, a
 * 1-thread step's CPU time is what it would take uncontended. PyTorch runs with the environment given (set
 * OMP_WAIT_POLICY=PASSIVE to give it the passive OpenMP waiting ours uses unless told otherwise).
 *
 * Engines take turns network by network (PyTorch, then each backend, on ResNet-20; then on ResNet-56 in reverse
 * order; ...), each in its own process that only runs while the others wait, so load from other users of the
 * machine hits them alike. --rounds N repeats the whole sequence, alternating direction; each engine's result is
 * the median of its round medians. Needs a build (`npm run build`).
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { compareLockstep, compareRows, lockstepKey, markdownTable, type ComparedRow, type Failure } from '../src/bench/compare.js';
import { lockstepWorkload } from '../src/bench/lockstep.js';
import { benchRowSchema, lockstepRowSchema, type BenchRow, type LockstepRow } from '../src/bench/row.js';
import { loadConfig } from '../src/config/load.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'resnet-exp.js');
const script = join(root, 'bench', 'pytorch_reference.py');
const lockstepScript = join(root, 'dist', 'bench', 'lockstep-step.js');

const { values: opts } = parseArgs({
  options: {
    depths: { type: 'string', default: '20,56' },
    variants: { type: 'string', default: 'residual' },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    backends: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' },
    lockstep: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderrTail: string;
}

/** Runs a child with its stderr (progress) passed through; stdout captured. */
function run(command: string, args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderrTail: stderr.trim().split('\n').slice(-1)[0] ?? '' }));
  });
}

const note = (line: string) => process.stderr.write(`bench:compare: ${line}\n`);

function fail(message: string): never {
  process.stderr.write(`bench:compare: error: ${message}\n`);
  process.exit(2);
}

const positive = (name: string, text: string): string => {
  if (!/^[1-9]\d*$/.test(text)) fail(`--${name} must be a positive integer, got '${text}'`);
  return text;
};

async function usableBackends(): Promise<string[]> {
  const doctor = await run(process.execPath, [bin, 'doctor', '--json']);
  const parsed = z
    .object({ backends: z.array(z.object({ name: z.string(), usable: z.boolean() })) })
    .safeParse(JSON.parse(doctor.stdout || 'null'));
  if (!parsed.success) fail(`could not read 'resnet-exp doctor --json' (exit ${doctor.code}): ${doctor.stderrTail}`);
  // cpu takes minutes per step at these batch sizes: only when asked for by name.
  return parsed.data.backends.filter((b) => b.usable && b.name !== 'cpu').map((b) => b.name);
}

function rowsOf<T>(r: Run, schema: z.ZodType<T>): T[] | string {
  if (r.code !== 0) return r.signal ? `killed by ${r.signal}` : `exit ${r.code}: ${r.stderrTail}`;
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    return `output is not JSON: ${r.stdout.slice(0, 80)}`;
  }
  const parsed = z.array(schema).safeParse(json);
  return parsed.success ? parsed.data : `unexpected output: ${parsed.error.message.split('\n')[0]}`;
}

async function main(): Promise<void> {
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const depths = opts.depths.split(',').filter(Boolean);
  const variants = opts.variants.split(',').filter(Boolean);
  const shared = ['--batch', positive('batch', opts.batch), '--steps', positive('steps', opts.steps), '--warmup', opts.warmup, '--threads', positive('threads', opts.threads)];
  const rounds = Number(positive('rounds', opts.rounds));

  const torch = await run(opts.python, ['-c', 'import torch; print(torch.__version__)']);
  if (torch.code !== 0) fail(`PyTorch is not importable with ${opts.python} (apt-get install python3-torch): ${torch.stderrTail}`);
  const backends = opts.backends ? opts.backends.split(',').filter(Boolean) : await usableBackends();
  if (backends.length === 0) fail('none of our backends is usable here (see resnet-exp doctor)');
  if (opts.lockstep !== undefined) {
    const shared = ['--steps', positive('steps', opts.steps), '--warmup', opts.warmup, '--threads', positive('threads', opts.threads)];
    await lockstep(resolve(opts.lockstep), backends, torch.stdout.trim(), shared, rounds);
    return;
  }
  const loadBefore = os.loadavg();
  note(`PyTorch ${torch.stdout.trim()} vs ${backends.join(', ')}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} on ${os.availableParallelism()} cores`);

  const rows: BenchRow[] = [];
  const failures: Failure[] = [];
  const engines = ['pytorch', ...backends];
  let turn = 0;
  for (let round = 0; round < rounds; round++) {
    for (const depth of depths) {
      for (const variant of variants) {
        const order = turn++ % 2 === 0 ? engines : [...engines].reverse();
        for (const engine of order) {
          const network = ['--depths', depth, '--variants', variant];
          const result =
            engine === 'pytorch'
              ? await run(opts.python, [script, ...network, ...shared])
              : await run(process.execPath, [bin, 'bench', '--backend', engine, '--json', ...network, ...shared]);
          const got = rowsOf(result, benchRowSchema);
          if (typeof got === 'string') {
            failures.push({ backend: engine, network: `${variant}-${depth}`, reason: got });
            note(`${engine} ${variant}-${depth} failed: ${got}`);
          } else {
            rows.push(...got);
          }
        }
      }
    }
  }

  report(compareRows(rows, failures, backends), { loadBefore, torch: torch.stdout.trim(), rounds });
}

function report(compared: ComparedRow[], o: { loadBefore: number[]; torch: string; rounds: number }): void {
  const loadAfter = os.loadavg();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ loadBefore: o.loadBefore, loadAfter, torch: o.torch, rows: compared }, null, 2)}\n`);
    return;
  }
  const command = `npm run bench:compare -- ${process.argv.slice(2).join(' ')}`.trim();
  const policy = process.env.OMP_WAIT_POLICY ? `OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY} ` : '';
  process.stdout.write(
    `${markdownTable(compared)}\n\n` +
      `\`${policy}${command}\`; PyTorch ${o.torch}; ${os.availableParallelism()} cores; ${o.rounds} round(s); ` +
      `load average ${o.loadBefore[0].toFixed(2)} at the start, ${loadAfter[0].toFixed(2)} at the end.\n`,
  );
}

/** --lockstep: engines take turns on the whole workload, alternating direction round by round. */
async function lockstep(file: string, backends: string[], torch: string, shared: string[], rounds: number): Promise<void> {
  const config = loadConfig({ file });
  if (!config.ok) fail(config.error.join('; '));
  const workload = lockstepWorkload(config.value);
  const depths = [...new Set(workload.specs.map((s) => s.depth))];
  const variants = [...new Set(workload.specs.map((s) => s.variant))];
  if (variants.some((v) => v === 'preact')) fail(`${file}: the PyTorch reference has no pre-activation networks`);
  const torchArgs = [
    script, '--lockstep', '--depths', depths.join(','), '--variants', variants.join(','),
    '--width', String(workload.specs[0].width), '--batch', String(workload.batch),
    '--momentum', String(workload.sgd.momentum), '--weight-decay', String(workload.sgd.weightDecay), ...shared,
  ];
  const loadBefore = os.loadavg();
  note(`lockstep ${workload.name}: PyTorch ${torch} vs ${backends.join(', ')}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} on ${os.availableParallelism()} cores`);
  const rows: LockstepRow[] = [];
  const failures: Failure[] = [];
  const engines = ['pytorch', ...backends];
  for (let round = 0; round < rounds; round++) {
    for (const engine of round % 2 === 0 ? engines : [...engines].reverse()) {
      const result =
        engine === 'pytorch'
          ? await run(opts.python, torchArgs)
          : await run(process.execPath, [lockstepScript, '--config', file, '--backend', engine, ...shared]);
      const got = rowsOf(result, lockstepRowSchema);
      if (typeof got === 'string') {
        failures.push({ backend: engine, network: lockstepKey({ networks: workload.specs.map((s) => `${s.variant}-${s.depth}`), width: workload.specs[0].width }), reason: got });
        note(`${engine} lockstep failed: ${got}`);
      } else {
        rows.push(...got);
      }
    }
  }
  report(compareLockstep(rows, failures, backends), { loadBefore, torch, rounds });
}

const USAGE =
  'usage: npm run bench:compare -- [--depths 20,56] [--variants residual] [--batch 128] [--steps 5] [--warmup 2] [--threads N] [--backends onednn,wasm] [--rounds 1] [--python /usr/bin/python3] [--json]\n' +
  '       npm run bench:compare -- --lockstep configs/fig6-cpu-long.json [--steps 5] [--warmup 2] [--threads N] [--backends onednn] [--rounds 1] [--json]';

await main();
