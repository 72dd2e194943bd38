import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * How the run record reaches the disk: whole appends, atomic replacements, fsynced folders, and one error that
 * names the file when the disk refuses (full, quota, I/O error, size limit).
 */

/** The write-side file operations the run record goes through: node:fs, or a test's stand-in that fails like a full disk. */
export interface FileOps {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  ftruncateSync(fd: number, length: number): void;
  fstatSync(fd: number): { size: number };
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  mkdirSync(path: string): void;
}

export const nodeFileOps: FileOps = {
  openSync: (path, flags) => fs.openSync(path, flags),
  writeSync: (fd, data, offset, length) => fs.writeSync(fd, data, offset, length),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fstatSync: (fd) => fs.fstatSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (from, to) => fs.renameSync(from, to),
  mkdirSync: (path) => fs.mkdirSync(path),
};

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
};

/**
 * A file of the run record could not be written. One line naming the file; a run that meets it fails (exit 1)
 * after cleaning up what it was writing, so the previous checkpoint and the rows before it stay as they were.
 */
export class WriteError extends Error {
  override readonly name = 'WriteError';
  constructor(
    readonly path: string,
    readonly code: string | undefined,
  ) {
    super(`cannot write ${path}: ${(code && REASONS[code]) ?? 'write failed'}${code ? ` (${code})` : ''}`);
  }
}

/** `e` (an errno error, or a WriteError about a temp file) as a WriteError naming `path`, the file the user knows. */
export function writeFailure(path: string, e: unknown): WriteError {
  return new WriteError(path, e instanceof WriteError ? e.code : (e as NodeJS.ErrnoException | undefined)?.code);
}

/** A temporary name beside `path` that says which process made it: `<name>.tmp-<pid>`. */
export const tempPath = (path: string, pid = process.pid): string => join(dirname(path), `${basename(path)}.tmp-${pid}`);

/** write(2) may write less than asked (a disk filling up does): go on until all of it is written or it fails. */
export function writeAll(ops: FileOps, fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  let done = 0;
  while (done < bytes.length) done += ops.writeSync(fd, bytes, done, bytes.length - done);
}

/** fsync of a folder, so a rename or a new entry in it survives a crash. Not every file system can: best effort. */
export function fsyncDir(dir: string, ops: FileOps = nodeFileOps): void {
  let fd: number | undefined;
  try {
    fd = ops.openSync(dir, 'r');
    ops.fsyncSync(fd);
  } catch {
    // The entries themselves were written (and their data fsynced); only the ordering guarantee is lost.
  } finally {
    if (fd !== undefined) ops.closeSync(fd);
  }
}

/** Writes a new file and fsyncs it; on failure the partial file is removed and a WriteError naming it thrown. */
export function writeSynced(path: string, data: string | Uint8Array, ops: FileOps = nodeFileOps): void {
  try {
    const fd = ops.openSync(path, 'w');
    try {
      writeAll(ops, fd, data);
      ops.fsyncSync(fd);
    } finally {
      ops.closeSync(fd);
    }
  } catch (e) {
    fs.rmSync(path, { force: true });
    throw writeFailure(path, e);
  }
}

/**
 * Readers see either the old or the complete new content: a temp file beside it, fsync, rename. When the write
 * fails, the temp file is removed and the old content stays; the WriteError names `path`.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, ops: FileOps = nodeFileOps): void {
  const temp = tempPath(path);
  try {
    writeSynced(temp, data, ops);
    ops.renameSync(temp, path);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw writeFailure(path, e);
  }
  fsyncDir(dirname(path), ops);
}

/**
 * Appends `text` whole or not at all: a write cut short (disk full) is cut back to where the file ended, so a
 * reader never meets half a row. No fsync: the rows of a killed process up to the last write are kept by the
 * kernel; resume drops those past the checkpoint anyway.
 */
export function appendWhole(path: string, text: string, ops: FileOps = nodeFileOps): void {
  let fd: number;
  try {
    fd = ops.openSync(path, 'a');
  } catch (e) {
    throw writeFailure(path, e);
  }
  try {
    appendWholeTo(ops, fd, path, text);
  } finally {
    ops.closeSync(fd);
  }
}

/** appendWhole on a file open for appending (`path` names it in the error). */
export function appendWholeTo(ops: FileOps, fd: number, path: string, text: string): void {
  let size: number | undefined;
  try {
    size = ops.fstatSync(fd).size;
    writeAll(ops, fd, text);
  } catch (e) {
    try {
      if (size !== undefined) ops.ftruncateSync(fd, size);
    } catch {
      // Left with a torn last line; readers and resume skip one.
    }
    throw writeFailure(path, e);
  }
}
