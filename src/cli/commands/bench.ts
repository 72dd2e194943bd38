import os from 'node:os';
import { machineThreads } from '../../backend/threads.js';
import { benchOptionsSchema, type BenchOptions } from '../../bench/options.js';
import { formatRows } from '../../bench/row.js';
import { BACKENDS } from '../../config/schema.js';
import { formatIssues } from '../../config/format-issues.js';
import { createLogger } from '../ui/logger.js';
import { InputError } from '../../result.js';
import { defineCommand } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printJson, printLine, type CliIo } from '../io.js';

interface BenchArgs {
  depths: string;
  variants: string;
  batch: number;
  backend: string;
  steps: number;
  warmup: number;
  /** Default: what a run would get (OMP_NUM_THREADS, else every core). */
  threads?: number;
  microBatch?: number;
  includeCpu: boolean;
  seed: number;
  json: boolean;
  quiet: boolean;
}

const list = (text: string): string[] => text.split(',').map((s) => s.trim()).filter((s) => s !== '');

/** Flags to validated options; a bad value is one InputError line naming the flag. */
export function benchOptions(args: BenchArgs, env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const machine = machineThreads(env);
  if (args.threads === undefined && !machine.ok) throw new InputError(machine.error);
  const parsed = benchOptionsSchema.safeParse({
    depths: list(args.depths).map(Number),
    variants: list(args.variants),
    batch: args.batch,
    backend: args.backend,
    steps: args.steps,
    warmup: args.warmup,
    threads: args.threads ?? (machine.ok ? machine.value : undefined),
    microBatch: args.microBatch,
    includeCpu: args.includeCpu,
    seed: args.seed,
  });
  if (!parsed.success) throw new InputError(`bad bench option: ${formatIssues(parsed.error.issues).join('; ')}`);
  const o = parsed.data;
  if (o.microBatch !== undefined && o.batch % o.microBatch !== 0) {
    throw new InputError(`--micro-batch ${o.microBatch} must divide --batch ${o.batch}`);
  }
  return o;
}

async function bench(args: BenchArgs, io: CliIo): Promise<ExitCode> {
  const options = benchOptions(args, io.env);
  const logger = createLogger({ quiet: args.quiet, stderr: io.stderr });
  const load = os.loadavg()[0];
  logger.log.info(`load average ${load.toFixed(2)} on ${os.availableParallelism()} cores (timings on a busy machine run slow)`);
  // Loaded on use, so that --help and bad flags don't wait for TF.js.
  const { runBench } = await import('../../bench/run.js');
  const { rows, skipped } = await runBench(options, logger.log);
  if (args.json) printJson(io, rows);
  else if (rows.length > 0) printLine(io, formatRows(rows));
  if (rows.length === 0) {
    logger.log.error(`nothing measured: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
    return EXIT.failed;
  }
  return EXIT.ok;
}

export const benchCommand = defineCommand({
  command: 'bench',
  describe: 'Time training steps (forward, backward, SGD) per backend: images/s and GFLOP/s',
  builder: (y) =>
    y
      .option('depths', { type: 'string', default: '20,56', describe: 'comma list of depths (6n+2)' })
      .option('variants', { type: 'string', default: 'plain,residual', describe: 'comma list of plain, residual, preact' })
      .option('batch', { type: 'number', default: 128, describe: 'images per step' })
      .option('backend', {
        type: 'string',
        choices: ['auto', 'all', ...BACKENDS],
        default: 'auto',
        describe: "auto: the one a run would use; all: every backend that loads here (cpu only with --include-cpu)",
      })
      .option('steps', { type: 'number', default: 5, describe: 'timed steps (the median is reported)' })
      .option('warmup', { type: 'number', default: 2, describe: 'untimed steps first' })
      .option('threads', { type: 'number', describe: 'threads for onednn and wasm (default: OMP_NUM_THREADS, else every core, as a run)' })
      .option('micro-batch', { type: 'number', describe: 'split each step into slices of this many images (default: only what memory needs)' })
      .option('include-cpu', { type: 'boolean', default: false, describe: 'time the (very slow) cpu backend in auto/all too' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the weights and the random batch' })
      .option('json', { type: 'boolean', default: false, describe: 'rows as a JSON array on stdout' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'only warnings and errors on stderr' })
      .example('$0 bench --depths 20,56 --batch 128', 'the backend a run would use, ResNet-20/56 plain and residual')
      .example('$0 bench --backend all --depths 20 --variants residual --json', 'every usable backend, as JSON'),
  run: (args, io) => bench(args, io),
});
