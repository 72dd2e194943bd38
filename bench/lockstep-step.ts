/**
 * Our side of `bench:compare --lockstep`: times iterations of a config's lockstep workload (one training step of
 * every network it trains, on one batch, as `run` does) on one backend, and prints one JSON row (src/bench/row.ts,
 * lockstepRowSchema) on stdout; bench/pytorch_reference.py --lockstep prints PyTorch's.
 *
 *   npx tsc -p . && node dist/bench/lockstep-step.js [--config configs/fig6-cpu-long.json] [--backend onednn]
 *                                                   [--threads CORES] [--steps 5] [--warmup 2] [--seed 1]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { chooseBackend } from '../src/backend/select.js';
import { timeLockstep, lockstepWorkload } from '../src/bench/lockstep.js';
import { loadConfig } from '../src/config/load.js';
import { backendNameSchema } from '../src/config/schema.js';

const { values: opts } = parseArgs({
  options: {
    config: { type: 'string', default: 'configs/fig6-cpu-long.json' },
    backend: { type: 'string', default: 'onednn' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
  },
});

function fail(message: string): never {
  process.stderr.write(`lockstep-step: ${message}\n`);
  process.exit(2);
}

const whole = (name: string, text: string, min: number): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be a whole number ≥ ${min}, got '${text}'`);
  return n;
};

const backend = backendNameSchema.safeParse(opts.backend);
if (!backend.success) fail(`--backend must be one of ${backendNameSchema.options.join(', ')}, got '${opts.backend}'`);
const threads = whole('threads', opts.threads, 1);
const config = loadConfig({ file: opts.config });
if (!config.ok) fail(config.error.join('; '));
const chosen = await chooseBackend(backend.data, { count: threads, adaptive: false });
if (!chosen.ok) {
  process.stderr.write(`lockstep-step: ${chosen.error}\n`);
  process.exit(1);
}
const workload = lockstepWorkload(config.value);
process.stderr.write(`lockstep-step: ${backend.data}, ${threads} thread(s): ${workload.specs.length} networks of ${config.value.name}, batch ${workload.batch}\n`);
const row = timeLockstep(workload, {
  steps: whole('steps', opts.steps, 1),
  warmup: whole('warmup', opts.warmup, 0),
  seed: whole('seed', opts.seed, 0),
  threads: chosen.value.threads?.count ?? threads,
  backend: backend.data,
});
process.stdout.write(`${JSON.stringify([row], null, 2)}\n`);
