import type { Logger } from 'pino';
import type { LogFile } from '../record/log-file.js';

/**
 * What a run logs through: the caller's logger, and the run folder's log.jsonl added once the folder exists.
 * The CLI makes one (stderr + file); a sweep makes one per run; a library user may pass any pino logger.
 */
export interface RunLogger {
  log: Logger;
  /** Adds the run's `log.jsonl` (every record, as JSON lines) once the run folder exists. */
  addFile(file: LogFile): void;
  /** fsyncs and closes the log files: the logger's last call. */
  flush(): void;
}
