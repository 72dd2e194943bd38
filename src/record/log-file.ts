import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { appendWholeTo, nodeFileOps, writeAll, writeFailure, type FileOps } from './durable.js';

/** A run's log.jsonl as a logger destination (pino takes anything with `write(line)`). */
export interface LogFile {
  readonly path: string;
  write(line: string): void;
  /** fsync, so the records of a finished or failed run are on disk. Never throws. */
  flush(): void;
  close(): void;
}

/** Whether the file exists, is not empty, and its last byte is not a newline: a record cut off by a killed run. */
function endsTorn(path: string): boolean {
  const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  if (size === 0) return false;
  const fd = openSync(path, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens log.jsonl for appending, one synchronous write per record. Not pino.destination: its synchronous mode
 * retries a failed write forever (sonic-boom 4's flushSync loops on any error but EAGAIN, sleeping with
 * Atomics.wait, so not even a signal handler runs) — a full disk hung the run until SIGKILL.
 *
 * Each record is appended whole or not at all. A failed write throws a WriteError naming the file once, out of
 * the log call that met it, which fails the run; the file then takes no more records (the error itself must still reach stderr through the same logger).
 * A last line torn by a killed run is ended first, so the next record starts on a line of its own.
 */
export function openLogFile(path: string, ops: FileOps = nodeFileOps): LogFile {
  let fd: number | undefined;
  try {
    const torn = endsTorn(path);
    fd = ops.openSync(path, 'a');
    if (torn) writeAll(ops, fd, '\n');
  } catch (e) {
    if (fd !== undefined) ops.closeSync(fd);
    throw writeFailure(path, e);
  }
  let broken = false;
  return {
    path,
    write(line) {
      if (broken || fd === undefined) return;
      try {
        appendWholeTo(ops, fd, path, line);
      } catch (e) {
        broken = true;
        throw e;
      }
    },
    flush() {
      if (broken || fd === undefined) return;
      try {
        ops.fsyncSync(fd);
      } catch {
        // Not every file system can fsync; the records were written.
      }
    },
    close() {
      if (fd === undefined) return;
      ops.closeSync(fd);
      fd = undefined;
    },
  };
}
