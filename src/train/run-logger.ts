import type { Logger } from 'pino';

/**
 * What a run logs through: the caller's logger, and the run folder's log.jsonl added once the folder exists.
 * The CLI makes one (stderr + file); a sweep makes one per run; a library user may pass any pino logger.
 */
export interface RunLogger {
  log: Logger;
  /** Adds `log.jsonl` (every record, as JSON lines) once the run folder exists. */
  addFile(path: string): void;
  /** Waits for the log file to be flushed. */
  flush(): void;
}
