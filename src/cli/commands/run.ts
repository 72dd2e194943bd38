import { isLiveTerminal, LiveProgress } from '../../report/progress.js';
import { createLogger } from '../../report/logger.js';
import { runExperiment } from '../../train/run.js';
import { resolveConfig, type ConfigArgs } from '../config-options.js';
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
export async function runCommand(args: RunArgs): Promise<ExitCode> {
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
