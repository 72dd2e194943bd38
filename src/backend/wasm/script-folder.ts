import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The folder that holds one process's wasm start-up scripts (see node-threads.ts).
 *
 * Its name carries the pid because a process ended by SIGKILL (or the OOM killer) runs no exit handler and
 * leaves its folder behind; the next start-up removes the folders whose process is gone. A folder is removed
 * only when it is unmistakably one of these: our name pattern, owned by this user, a real folder (not a link),
 * holding nothing but the scripts this module's caller writes, and its pid no longer running. A pid reused by
 * another process keeps its folder until that process ends too — a leak of two small files, never a deletion of
 * something in use.
 */

const PREFIX = 'resnet-exp-wasm-';
const NAME = /^resnet-exp-wasm-(\d+)-[A-Za-z0-9]{6}$/;
const OUR_FILES = /^wasm-(module|worker)\.cjs(\.tmp)?$/;

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the pid exists, as another user's process.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function abandoned(dir: string, pid: number): boolean {
  if (pid === process.pid || running(pid)) return false;
  const stat = lstatSync(dir, { throwIfNoEntry: false });
  if (stat === undefined || !stat.isDirectory()) return false;
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) return false;
  return readdirSync(dir).every((name) => OUR_FILES.test(name));
}

/** Removes the script folders in `tmp` left by processes that are gone; returns the paths removed. */
export function removeAbandonedScriptFolders(tmp: string = os.tmpdir()): string[] {
  let names: string[];
  try {
    names = readdirSync(tmp);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = NAME.exec(name);
    if (match === null) continue;
    const dir = path.join(tmp, name);
    try {
      if (!abandoned(dir, Number(match[1]))) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Another start-up removed it first, or it changed under us: not ours to insist on.
    }
  }
  return removed;
}

/** A new script folder for this process, removed when it exits; abandoned ones are cleared first. */
export function createScriptFolder(tmp: string = os.tmpdir()): string {
  removeAbandonedScriptFolders(tmp);
  const dir = mkdtempSync(path.join(tmp, `${PREFIX}${process.pid}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
