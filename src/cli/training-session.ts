import type { RunSummary } from '../record/summary.js';
import type { RunRequest } from '../train/run.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { printJson, type CliIo } from './io.js';
import { withTerminal, type TerminalSession } from './terminal-session.js';

type SessionHooks = Pick<RunRequest, 'log' | 'logToFile' | 'onStep' | 'shouldStop'>;

/**
 * What `run` and `resume` share: a terminal session (logs, live progress, signals) around one training run. The
 * first SIGINT/SIGTERM stops after the current step — rows flushed, a checkpoint written, the resume command
 * printed, exit 130.
 */
export function trainingSession(
  io: CliIo,
  options: { quiet: boolean; json: boolean; iterations: number },
  train: (hooks: SessionHooks, session: TerminalSession) => Promise<RunSummary>,
): Promise<ExitCode> {
  return withTerminal(io, options.quiet, async (session) => {
    const progress = session.progress(options.iterations);
    const logger = session.logger();
    session.trapSignals({ message: 'stopping after the current step and writing a checkpoint (again to quit at once)' });
    try {
      const summary = await train(
        {
          log: logger.log,
          logToFile: logger.addFile,
          onStep: progress ? (step, trainees) => progress.update(step, trainees) : undefined,
          shouldStop: () => session.stopRequested,
        },
        session,
      );
      session.rethrowSignalFailure();
      const results = summary.networks.map((n) => `${n.variant}-${n.depth}${summary.seeds.length > 1 ? `/seed ${n.seed}` : ''} test error ${n.final_test_error?.toFixed(4) ?? '-'}`);
      logger.log.info({ summary }, `${summary.status} after ${summary.steps_completed} iterations (${summary.wall_seconds.toFixed(1)} s): ${results.join(', ')}`);
      if (summary.status === 'interrupted') logger.log.warn(`resume with: resnet-exp resume ${summary.run_dir}`);
      if (options.json) printJson(io, summary);
      return summary.status === 'interrupted' ? EXIT.interrupted : EXIT.ok;
    } finally {
      logger.flush();
    }
  });
}
