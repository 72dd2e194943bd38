import { chmodSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../record/durable.js';
import { InputError } from '../../result.js';
import type { RunOutcome } from '../../sweep/execute.js';
import {
  checkSweepFolder,
  planSweep,
  runArguments,
  runState,
  sweepArguments,
  sweepFileOf,
  writeSweepFile,
  type PlannedRun,
  type SweepPlan,
} from '../../sweep/plan.js';
import { shellJoin } from '../../sweep/shell.js';
import { checkSlurmResources, SLURM_DEFAULT_MAX_ARRAY, slurmScript, type SlurmResources } from '../../sweep/slurm.js';
import { defineCommand } from '../command.js';
import { withConfigOverrides, type ConfigArgs } from '../config-options.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printJson, printLine, type CliIo } from '../io.js';
import { checkPort, withServe, withServeOption } from '../serve-option.js';
import { withTerminal } from '../terminal-session.js';
import { createLogger } from '../ui/logger.js';

export interface SweepArgs extends ConfigArgs, SlurmResources {
  serve?: string;
  grid: string[];
  dryRun: boolean;
  index?: number;
  emit?: string;
  json: boolean;
  quiet: boolean;
}

/** This checkout's launcher, for batch scripts that must not depend on the compute nodes' PATH. */
const BIN = fileURLToPath(new URL('../../../../bin/resnet-exp.js', import.meta.url));
const SLURM_SCRIPT = 'slurm-array.sh';

function slurmResources(args: SweepArgs): SlurmResources {
  const r: SlurmResources = {
    maxParallel: args.maxParallel,
    gpus: args.gpus,
    time: args.time,
    mem: args.mem,
    cpusPerTask: args.cpusPerTask,
    partition: args.partition,
  };
  const flags: [string, unknown][] = [
    ['max-parallel', r.maxParallel],
    ['gpus', r.gpus],
    ['time', r.time],
    ['mem', r.mem],
    ['cpus-per-task', r.cpusPerTask],
    ['partition', r.partition],
  ];
  const given = flags.filter(([, v]) => v !== undefined).map(([flag]) => flag);
  if (args.emit === undefined) {
    if (given.length > 0) throw new InputError(`--${given[0]} is a Slurm request; it needs --emit slurm`);
    return r;
  }
  const checked = checkSlurmResources(r);
  if (!checked.ok) throw new InputError(checked.error.join('\n'));
  return checked.value;
}

/** Parses, validates every combination and checks the sweep folder; all bad input is thrown before any effect. */
function planFromArgs(args: SweepArgs, io: CliIo): SweepPlan {
  if (args.config === undefined) throw new InputError('give a config file, e.g. resnet-exp sweep configs/smoke.json --grid seed=1,2');
  if (args.emit !== undefined && args.index !== undefined) {
    throw new InputError('--index runs one combination here; --emit writes a script for all of them: give one of the two');
  }
  if (args.index !== undefined && !(Number.isInteger(args.index) && args.index >= 0)) {
    throw new InputError(`--index ${args.index}: expected a combination number, 0 or more`);
  }
  // Every shorthand override flag, whatever the shared set holds; --out names the sweep folder instead.
  const { out, ...shorthands } = args;
  const planned = planSweep({
    configFile: args.config,
    sets: args.set,
    shorthands,
    grid: args.grid,
    out,
    dataDirEnv: io.env.RESNET_EXP_DATA,
    cwd: io.cwd,
  });
  if (!planned.ok) throw new InputError(planned.error.join('\n'));
  const count = planned.value.runs.length;
  if (args.index !== undefined && args.index >= count) {
    throw new InputError(`--index ${args.index}: the sweep has ${count} combinations, numbered 0 to ${count - 1}`);
  }
  const checked = checkSweepFolder(planned.value, sweepFileOf(planned.value, io.cwd));
  if (!checked.ok) throw new InputError(checked.error);
  return checked.value;
}

function printDryRun(io: CliIo, plan: SweepPlan, indices: readonly number[], json: boolean): ExitCode {
  const runs = indices.map((i) => plan.runs[i]);
  const argv = (run: PlannedRun) => ['resnet-exp', ...runArguments(plan, run)];
  if (json) {
    printJson(io, { sweep_dir: plan.dir, runs: runs.map((r) => ({ index: r.index, folder: r.dir, argv: argv(r), command: shellJoin(argv(r)) })) });
  } else {
    for (const run of runs) printLine(io, shellJoin(argv(run)));
  }
  return EXIT.ok;
}

function emitSlurm(io: CliIo, plan: SweepPlan, resources: SlurmResources, args: SweepArgs): ExitCode {
  const scriptPath = join(plan.dir, SLURM_SCRIPT);
  const count = plan.runs.length;
  const text = slurmScript({
    ...resources,
    jobName: basename(plan.dir),
    count,
    workdir: io.cwd,
    logDir: plan.dir,
    scriptPath,
    program: [process.execPath, BIN],
    sweepArgs: sweepArguments(plan),
  });
  if (args.dryRun) {
    io.stdout.write(text);
    return EXIT.ok;
  }
  writeSweepFile(plan, sweepFileOf(plan, io.cwd));
  writeFileAtomic(scriptPath, text);
  chmodSync(scriptPath, 0o755);
  const log = createLogger({ quiet: args.quiet, stderr: io.stderr }).log;
  if (count > SLURM_DEFAULT_MAX_ARRAY) {
    log.warn(`${count} array tasks: more than Slurm's default MaxArraySize allows (${SLURM_DEFAULT_MAX_ARRAY}); ask whether your cluster raised it`);
  }
  log.info(`${count} combinations; submit with: sbatch ${shellJoin([scriptPath])}`);
  if (args.json) printJson(io, { sweep_dir: plan.dir, script: scriptPath, combinations: count });
  else printLine(io, scriptPath);
  return EXIT.ok;
}

async function runSweep(io: CliIo, plan: SweepPlan, indices: readonly number[], args: SweepArgs): Promise<ExitCode> {
  const pending = indices.map((i) => plan.runs[i]).filter((r) => runState(r.dir).kind !== 'completed');
  // Loaded on use, so that --help, --dry-run and bad flags don't wait for TF.js.
  const { executeSweep, preflight } = await import('../../sweep/execute.js');
  const checked = await preflight(pending);
  if (!checked.ok) throw new InputError(checked.error.join('\n'));
  writeSweepFile(plan, sweepFileOf(plan, io.cwd));

  return withTerminal(io, args.quiet, async (session) => {
    const { log } = session;
    session.trapSignals({ message: 'stopping after the current step; no further run starts (again to quit at once)' });
    log.info(`sweep folder: ${plan.dir} (${indices.length} of ${plan.runs.length} combinations)`);
    // Per run: its own logger (stderr and the run's log.jsonl) and its own progress lines.
    const page = { path: `compare?sweep=${encodeURIComponent(basename(plan.dir))}` };
    const outcomes: RunOutcome[] = await withServe({ cwd: io.cwd, stderr: session.stderr }, args.serve, plan.dir, page, () =>
      executeSweep({
        plan,
        indices,
        log,
        runLogger: () => session.logger(),
        onStep: (run) => {
          const progress = session.progress(run.config.train.iterations);
          return progress ? (step, trainees) => progress.update(step, trainees) : undefined;
        },
        shouldStop: () => session.stopRequested,
      }),
    );
    session.close();

    const count = (status: RunOutcome['status']) => outcomes.filter((o) => o.status === status).length;
    const failed = outcomes.filter((o) => o.status === 'failed');
    log.info(
      `sweep ${plan.dir}: ${count('completed')} completed, ${count('skipped')} skipped (done before), ${failed.length} failed` +
        (count('interrupted') + count('not-run') > 0 ? `, ${count('interrupted')} interrupted, ${count('not-run')} not run` : ''),
    );
    // The list of failures is the result a script acts on: always on stderr, even with --quiet.
    for (const f of failed) io.stderr.write(`resnet-exp: failed: combination ${f.index} ${f.folder}: ${f.reason}\n`);
    if (args.json) {
      printJson(io, {
        sweep_dir: plan.dir,
        runs: outcomes.map((o) => ({ index: o.index, folder: o.folder, status: o.status, ...(o.reason ? { reason: o.reason } : {}), summary: o.summary ?? null })),
      });
    }
    if (count('interrupted') + count('not-run') > 0) return EXIT.interrupted;
    return failed.length > 0 ? EXIT.failed : EXIT.ok;
  });
}

async function sweep(args: SweepArgs, io: CliIo): Promise<ExitCode> {
  if (args.serve !== undefined) {
    if (args.emit !== undefined || args.dryRun) throw new InputError('--serve: only for a sweep that runs here (not with --dry-run or --emit)');
    if (args.serve !== '') checkPort(args.serve, '--serve');
  }
  const resources = slurmResources(args);
  const plan = planFromArgs(args, io);
  const indices = args.index !== undefined ? [args.index] : plan.runs.map((r) => r.index);
  if (args.emit !== undefined) return emitSlurm(io, plan, resources, args);
  if (args.dryRun) return printDryRun(io, plan, indices, args.json);
  return runSweep(io, plan, indices, args);
}

export const sweepCommand = defineCommand({
  command: 'sweep <config>',
  describe: 'Run every combination of --grid values, one run folder each, skipping the ones already completed',
  builder: (y) =>
    withServeOption(withConfigOverrides(y.positional('config', { describe: 'config file (YAML or JSON)', type: 'string' })))
      .option('grid', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'key.path=v1,v2,... : a config key and its values (parsed like --set). Repeatable; the first --grid changes slowest.',
      })
      .option('out', { type: 'string', describe: 'sweep folder (default runs/<name>-sweep-<UTC time>); rerun into it to finish a sweep' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print one `resnet-exp run` command line per combination; run nothing' })
      .option('index', { type: 'number', describe: 'run only combination i (0-based), e.g. from a job array' })
      .option('emit', { type: 'string', choices: ['slurm'], describe: 'write a Slurm job-array script into the sweep folder instead of running' })
      .option('max-parallel', { type: 'number', describe: 'array tasks running at once (%K)', group: 'Slurm (with --emit slurm):' })
      .option('gpus', { type: 'string', describe: 'GPUs per task: a count or type:count (--gres=gpu:...)', group: 'Slurm (with --emit slurm):' })
      .option('time', { type: 'string', describe: 'time limit per task, e.g. 2:00:00 or 1-00:00:00', group: 'Slurm (with --emit slurm):' })
      .option('mem', { type: 'string', describe: 'memory per task, e.g. 8G', group: 'Slurm (with --emit slurm):' })
      .option('cpus-per-task', { type: 'number', describe: 'CPU cores per task', group: 'Slurm (with --emit slurm):' })
      .option('partition', { type: 'string', describe: 'Slurm partition', group: 'Slurm (with --emit slurm):' })
      .option('json', { type: 'boolean', default: false, describe: 'print {sweep_dir, runs: [{index, folder, status, summary}]} on stdout' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress; only warnings, errors and failures on stderr' })
      .example('$0 sweep configs/cifar.json --grid model.depth=20,32,44,56 --grid seed=1,2,3 --out runs/depths', '12 runs, one after another')
      .example('$0 sweep configs/cifar.json --grid seed=1,2,3 --out runs/seeds --dry-run | parallel', 'your own scheduler')
      .example('$0 sweep configs/cifar.json --grid seed=1,2,3 --out runs/seeds --emit slurm --gpus 1 --time 4:00:00', 'a Slurm job array'),
  run: (args, io) => sweep(args, io),
});
