import type { Logger } from 'pino';
import { DownloadBar } from './ui/download-progress.js';
import { createLogger, type RunLogger } from './ui/logger.js';
import { isLiveTerminal, LiveProgress } from './ui/progress.js';
import { EXIT } from './exit-codes.js';
import type { CliIo, TextSink } from './io.js';

/** What is drawn in place on the terminal (training progress, a download bar): cleared before any log line. */
interface LiveDisplay {
  clear(): void;
}

/**
 * The terminal side of a long command (run, resume, sweep, fetch): logs on stderr, live progress only on a
 * terminal (never with NO_COLOR or --quiet) and erased before each log line, and signals — the first
 * SIGINT/SIGTERM asks the command to stop, a second exits at once with 130.
 */
export class TerminalSession {
  readonly live: boolean;
  /** The command's own log lines (stderr only). */
  readonly log: Logger;
  private display: LiveDisplay | undefined;
  private interrupted = false;
  // A log write that fails inside a signal handler would escape as an uncaught exception: kept for close().
  private signalFailure: unknown;
  private untrap: (() => void) | undefined;
  /** stderr for any other note of the command: erases the live display first, so no line lands inside it. */
  readonly stderr: TextSink;

  constructor(
    private readonly io: CliIo,
    private readonly quiet: boolean,
  ) {
    this.live = isLiveTerminal({ stream: io.stderr, quiet, env: io.env });
    this.stderr = {
      write: (text: string) => {
        this.display?.clear();
        return io.stderr.write(text);
      },
    };
    this.log = this.logger().log;
  }

  /** A logger on stderr to which a run adds its log.jsonl; one per run (a sweep makes several). */
  logger(): RunLogger {
    return createLogger({ quiet: this.quiet, stderr: this.stderr });
  }

  /** Training progress for `iterations` steps, on a terminal only; replaces what was drawn before. */
  progress(iterations: number): LiveProgress | undefined {
    return this.show(this.live ? new LiveProgress(this.io.stderr, iterations) : undefined);
  }

  /** A download bar labelled `label`, on a terminal only. */
  downloadBar(label: string): DownloadBar | undefined {
    return this.show(this.live ? new DownloadBar(this.io.stderr, label) : undefined);
  }

  private show<T extends LiveDisplay>(display: T | undefined): T | undefined {
    this.display?.clear();
    this.display = display;
    return display;
  }

  /** Whether a first signal asked the command to stop. */
  get stopRequested(): boolean {
    return this.interrupted;
  }

  /**
   * Until close(): the first SIGINT/SIGTERM logs `message` (when given) and calls `stop`; a second ends the
   * process at once (rows are appended whole, so no file holds half a row).
   */
  trapSignals(options: { message?: string; stop?: () => void } = {}): void {
    this.untrap?.();
    this.untrap = this.io.onSignal((signal) => {
      if (this.interrupted) {
        this.io.exit(EXIT.interrupted);
        return;
      }
      this.interrupted = true;
      this.display?.clear();
      options.stop?.();
      if (options.message === undefined) return;
      try {
        this.log.warn(`${signal}: ${options.message}`);
      } catch (e) {
        this.signalFailure = e;
      }
    });
  }

  /** Throws the error of a log write that failed in a signal handler, if one did. */
  rethrowSignalFailure(): void {
    const failure = this.signalFailure;
    this.signalFailure = undefined;
    if (failure !== undefined) throw failure;
  }

  /** Erases the live display and stops listening for signals; then as rethrowSignalFailure. */
  close(): void {
    this.show(undefined);
    this.untrap?.();
    this.untrap = undefined;
    this.rethrowSignalFailure();
  }
}

/** Runs `body` in a session that is closed however it ends. */
export async function withTerminal<T>(io: CliIo, quiet: boolean, body: (session: TerminalSession) => Promise<T>): Promise<T> {
  const session = new TerminalSession(io, quiet);
  let result: T;
  try {
    result = await body(session);
  } catch (e) {
    try {
      session.close();
    } catch {
      // The command's own error is the one to report.
    }
    throw e;
  }
  session.close();
  return result;
}
