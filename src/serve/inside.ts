import { closeSync, constants, fstatSync, openSync, realpathSync, type Stats } from 'node:fs';
import { sep } from 'node:path';

/** `path` is `dir` or below it (both real, absolute paths). */
export const isInside = (path: string, dir: string): boolean => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/** The real path of `path` (symlinks resolved, nothing opened), or undefined when it does not exist. */
export function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** An open regular file inside a served folder, and what fstat said of it when opened. */
export interface OpenFile {
  fd: number;
  stat: Stats;
}

/**
 * Opens `path` for reading only when its real path lies inside `dir` (a real path) and it is a regular file.
 * The containment check comes first and opens nothing, so a symlink pointing out of the served folders is
 * refused without the target being read. O_NONBLOCK: a FIFO planted in a run folder must not hang the server.
 */
export function openInside(path: string, dir: string): OpenFile | undefined {
  const real = realPath(path);
  if (real === undefined || !isInside(real, dir)) return undefined;
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    return undefined;
  }
  return { fd, stat };
}
