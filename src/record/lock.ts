import { closeSync, linkSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../result.js';
import { tempPath } from './durable.js';
import { stillRunning, thisProcess } from './process.js';

/**
 * One process at a time in a run folder: `<run>/.resnet-exp-lock` names its holder (pid, process start time,
 * host). Taken by creating the file under a temporary name and hard-linking it into place, which fails if it
 * exists, so the lock file always appears whole. A lock whose holder is gone (pid dead, or alive with another
 * start time: the number was reused) is taken over; one from another host is never guessed about.
 *
 * Not proper-lockfile: its locks go stale when their mtime is not refreshed by a timer every few seconds, and a
 * training step holds the event loop for seconds to minutes (the cpu backend, a deep net), so a live run's lock
 * would be declared stale and taken. A pid with its start time can't be outlived by its lock.
 */

export const LOCK_FILE = '.resnet-exp-lock';

const holderSchema = z.object({
  pid: z.number().int().positive(),
  start: z.string().nullable(),
  host: z.string(),
  since: z.string(),
  command: z.string().optional(),
});
export type LockHolder = z.infer<typeof holderSchema>;

/** The holder named in a lock file: undefined when there is none, 'unreadable' when it is not a lock we wrote. */
function readHolder(path: string): LockHolder | 'unreadable' | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return 'unreadable';
  }
  try {
    const parsed = holderSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

const sameHolder = (a: LockHolder, b: LockHolder): boolean => a.pid === b.pid && a.start === b.start && a.host === b.host && a.since === b.since;

function busy(dir: string, path: string, holder: LockHolder): InputError {
  const elsewhere = holder.host !== hostname();
  return new InputError(
    `${dir} is in use by another resnet-exp process (pid ${holder.pid}${elsewhere ? ` on ${holder.host}` : ''}, since ${holder.since}); ` +
      (elsewhere ? `wait for it, or remove ${path} if that process is gone` : 'wait for it to finish, or stop it'),
  );
}

/** The live process holding `dir`, if any (a stale lock counts as free). */
export function lockHolder(dir: string): LockHolder | undefined {
  const holder = readHolder(join(dir, LOCK_FILE));
  return typeof holder === 'object' && stillRunning(holder) ? holder : undefined;
}

/** Throws the InputError `acquire` would when a live process holds `dir`: "in use" says more than what it holds. */
export function refuseIfLocked(dir: string): void {
  const holder = lockHolder(dir);
  if (holder) throw busy(dir, join(dir, LOCK_FILE), holder);
}

const cannotWrite = (dir: string, e: unknown) => new InputError(`cannot write run folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);

export class FolderLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(
    readonly path: string,
    private readonly me: LockHolder,
  ) {
    // A second Ctrl-C ends the process with process.exit: the lock goes with it.
    process.on('exit', this.onExit);
  }

  /** Takes the lock on `dir` (which must exist), or throws an InputError naming the holder's pid. */
  static acquire(dir: string): FolderLock {
    const path = join(dir, LOCK_FILE);
    const me: LockHolder = { ...thisProcess(), since: new Date().toISOString(), command: process.argv.slice(2).join(' ') };
    const text = `${JSON.stringify(me)}\n`;
    const temp = tempPath(path);
    try {
      writeFileSync(temp, text);
    } catch (e) {
      rmSync(temp, { force: true });
      throw cannotWrite(dir, e);
    }
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        if (link(temp, path, text, dir)) return new FolderLock(path, me);
        const holder = readHolder(path);
        if (holder === undefined) continue;
        if (holder === 'unreadable') throw new InputError(`${path} is not a lock resnet-exp wrote; remove it if no resnet-exp is working in ${dir}`);
        if (stillRunning(holder)) throw busy(dir, path, holder);
        removeStale(path, holder, dir);
      }
      throw new InputError(`cannot lock ${dir}: other processes keep taking ${path}`);
    } finally {
      rmSync(temp, { force: true });
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    const holder = readHolder(this.path);
    if (typeof holder === 'object' && sameHolder(holder, this.me)) rmSync(this.path, { force: true });
  }
}

/** Puts the lock in place: false when one is there already. */
function link(temp: string, path: string, text: string, dir: string): boolean {
  try {
    linkSync(temp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw cannotWrite(dir, e);
  }
  // A file system without hard links: exclusive creation, then the content. A reader in between sees an empty
  // lock, which is unreadable, so it refuses rather than takes it.
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw cannotWrite(dir, e);
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes a lock whose holder is gone. Two processes may find the same stale lock: each must remove only
 * that one, never the fresh lock the other put in its place, so the check and the removal happen under a
 * second, short-lived exclusive file.
 */
function removeStale(path: string, stale: LockHolder, dir: string): void {
  const steal = `${path}.steal`;
  let fd: number;
  try {
    fd = openSync(steal, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotWrite(dir, e);
    const stealer = readHolder(steal);
    // Its taker died in the microseconds it holds it: clear it and let the caller try again.
    if (typeof stealer === 'object' && !stillRunning(stealer)) {
      rmSync(steal, { force: true });
      return;
    }
    throw new InputError(`${dir} is being taken over by another resnet-exp process; try again`);
  }
  try {
    try {
      writeSync(fd, `${JSON.stringify({ ...thisProcess(), since: new Date().toISOString() })}\n`);
    } finally {
      closeSync(fd);
    }
    const now = readHolder(path);
    if (typeof now === 'object' && sameHolder(now, stale)) rmSync(path, { force: true });
  } finally {
    rmSync(steal, { force: true });
  }
}
