import type { ExitCode } from './exit-codes.js';

/** A stream the CLI writes text to: process.stdout/stderr for the bin, a string buffer in tests. */
export interface TextSink {
  write(text: string): unknown;
  /** Live progress and colour only on a terminal. */
  isTTY?: boolean;
  columns?: number;
}

/**
 * Everything the CLI takes from its surroundings. `bin/resnet-exp.js` passes the process's; tests pass buffers,
 * their own env and cwd, and run the whole command line in their own process.
 */
export interface CliIo {
  /** Results only (so scripts can parse them). */
  stdout: TextSink;
  /** Logs, progress, errors. */
  stderr: TextSink;
  env: NodeJS.ProcessEnv;
  /** What relative paths on the command line are relative to. */
  cwd: string;
  /** Calls `listener` on each SIGINT/SIGTERM until the returned function is called. */
  onSignal(listener: (signal: NodeJS.Signals) => void): () => void;
  /** Ends the process at once: a second Ctrl-C does not wait for the current step. */
  exit(code: ExitCode): void;
}

/**
 * A reader that goes away (`resnet-exp describe … | head`) makes the next write fail with EPIPE, which Node
 * raises as an unhandled 'error' event: a stack trace and exit 1 after the command did its work. Output no one
 * reads is dropped instead and the command ends with its own code; a run keeps training and its run folder is
 * complete either way.
 */
function dropWritesToAGoneReader(stream: NodeJS.WriteStream): void {
  if (stream.listenerCount('error') > 0) return;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

/** The real process's streams, environment, directory and signals. */
export function processIo(): CliIo {
  dropWritesToAGoneReader(process.stdout);
  dropWritesToAGoneReader(process.stderr);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onSignal(listener) {
      process.on('SIGINT', listener);
      process.on('SIGTERM', listener);
      return () => {
        process.off('SIGINT', listener);
        process.off('SIGTERM', listener);
      };
    },
    exit: (code) => process.exit(code),
  };
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(io: CliIo, line = ''): void {
  io.stdout.write(`${line}\n`);
}

export function printError(io: CliIo, message: string): void {
  for (const line of message.split('\n')) io.stderr.write(`resnet-exp: error: ${line}\n`);
}

/** Something the user should know that does not stop the command; same shape as the logger's warnings. */
export function printWarning(io: CliIo, message: string): void {
  for (const line of message.split('\n')) io.stderr.write(`resnet-exp: warning: ${line}\n`);
}
