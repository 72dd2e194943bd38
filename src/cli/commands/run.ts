import { isLiveTerminal, LiveProgress } from '../../report/progress.js';
import { createLogger } from '../../report/logger.js';
import { runExperiment } from '../../train/run.js';
import { defineCommand } from '../command.js';
import { resolveConfig, withConfigOverrides, type ConfigArgs } from '../config-options.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printJson } from '../io.js';

export interface RunArgs extends ConfigArgs {
  json: boolean;
  quiet: boolean;
  force: boolean;
}

/**
 * Trains the config's networks. The first SIGINT/SIGTERM stops after the current step with whole CSV rows and a
 * summary (exit 130); a second one exits at once.
 */
async function run(args: RunArgs): Promise<ExitCode> {
  const config = resolveConfig(args);
  const live = isLiveTerminal({ stream: process.stderr, quiet: args.quiet });
  const progress = live ? new LiveProgress(process.stderr, config.train.iterations) : undefined;
  const logger = createLogger({
    quiet: args.quiet,
    stderr: {
      write: (text: string) => {
        progress?.clear();
        return process.stderr.write(text);
      },
    } as NodeJS.WritableStream,
  });

  let stopRequested = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) process.exit(EXIT.interrupted);
    stopRequested = true;
    logger.log.warn(`${signal}: stopping after the current step (again to quit at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await runExperiment({
      config,
      force: args.force,
      log: logger.log,
      logToFile: logger.addFile,
      onStep: progress ? (step, trainees) => progress.update(step, trainees) : undefined,
      shouldStop: () => stopRequested,
    });
    progress?.clear();
    logger.log.info(
      { summary },
      `${summary.status} ${summary.steps_completed}/${summary.iterations} iterations in ${summary.wall_seconds.toFixed(1)} s: ` +
        summary.networks.map((n) => `${n.variant}-${n.depth} test error ${n.final_test_error?.toFixed(4) ?? '-'}`).join(', '),
    );
    if (args.json) printJson(summary);
    return summary.status === 'interrupted' ? EXIT.interrupted : EXIT.ok;
  } finally {
    logger.flush();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export const runCommand = defineCommand({
  command: 'run <config>',
  describe: "Train the config's plain and residual networks in lockstep; curves to <run folder>/metrics.csv",
  builder: (y) =>
    withConfigOverrides(y.positional('config', { describe: 'config file (YAML or JSON)', type: 'string' }))
      .option('json', { type: 'boolean', default: false, describe: 'print the final summary as JSON on stdout' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress; only warnings and errors on stderr' })
      .option('force', { type: 'boolean', default: false, describe: 'reuse an --out folder that already holds a run' })
      .example('$0 run configs/cifar56.json', "the paper's 56-layer comparison")
      .example('$0 run configs/smoke.json --iterations 20 --out runs/try --json', 'a short run, summary as JSON on stdout'),
  run: (args) => run(args),
});
