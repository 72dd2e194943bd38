import { createLogger } from './ui/logger.js';
import { isLiveTerminal, LiveProgress } from './ui/progress.js';
import type { RunSummary } from '../record/summary.js';
import type { RunRequest } from '../train/run.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { printJson } from './io.js';

type SessionHooks = Pick<RunRequest, 'log' | 'logToFile' | 'onStep' | 'shouldStop'>;

/**
 * What `run` and `resume` share: logs on stderr (live progress on a terminal), and signals. The first
 * SIGINT/SIGTERM stops after the current step — rows flushed, a checkpoint written, the resume command printed,
 * exit 130; a second one exits at once (rows are appended whole, so the CSV never holds half a row).
 */
export async function trainingSession(
  options: { quiet: boolean; json: boolean; iterations: number },
  train: (hooks: SessionHooks) => Promise<RunSummary>,
): Promise<ExitCode> {
  const live = isLiveTerminal({ stream: process.stderr, quiet: options.quiet });
  const progress = live ? new LiveProgress(process.stderr, options.iterations) : undefined;
  const logger = createLogger({
    quiet: options.quiet,
    stderr: {
      write: (text: string) => {
        progress?.clear();
        return process.stderr.write(text);
      },
    } as NodeJS.WritableStream,
  });
  let stopRequested = false;
  // A log write that fails inside a signal handler would escape as an uncaught exception: kept for after.
  let signalFailure: unknown;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) process.exit(EXIT.interrupted);
    stopRequested = true;
    try {
      logger.log.warn(`${signal}: stopping after the current step and writing a checkpoint (again to quit at once)`);
    } catch (e) {
      signalFailure = e;
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await train({
      log: logger.log,
      logToFile: logger.addFile,
      onStep: progress ? (step, trainees) => progress.update(step, trainees) : undefined,
      shouldStop: () => stopRequested,
    });
    if (signalFailure !== undefined) throw signalFailure;
    progress?.clear();
    const results = summary.networks.map((n) => `${n.variant}-${n.depth}${summary.seeds.length > 1 ? `/seed ${n.seed}` : ''} test error ${n.final_test_error?.toFixed(4) ?? '-'}`);
    logger.log.info({ summary }, `${summary.status} after ${summary.steps_completed} iterations (${summary.wall_seconds.toFixed(1)} s): ${results.join(', ')}`);
    if (summary.status === 'interrupted') logger.log.warn(`resume with: resnet-exp resume ${summary.run_dir}`);
    if (options.json) printJson(summary);
    return summary.status === 'interrupted' ? EXIT.interrupted : EXIT.ok;
  } finally {
    logger.flush();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
