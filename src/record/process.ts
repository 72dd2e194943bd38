import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Who wrote a lock or a temp file: enough to tell later whether that process still runs. */
export interface ProcessId {
  pid: number;
  /** The process's start time (clock ticks after boot, /proc/<pid>/stat field 22); null where /proc is not there. */
  start: string | null;
  host: string;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Field 22 of /proc/<pid>/stat. The second field (the command name, in parentheses) may itself hold spaces and
 * parentheses, so fields are counted after its last ')'.
 */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state), so field 22 is fields[19].
    return /^\d+$/.test(fields[19] ?? '') ? fields[19] : null;
  } catch {
    return null;
  }
}

export const thisProcess = (): ProcessId => ({ pid: process.pid, start: processStart(process.pid), host: hostname() });

/**
 * Whether `id` names a process that still runs. A pid alive with another start time is a later process that
 * got the number again: the one that wrote `id` is gone. On another host it can't be told: taken as running.
 */
export function stillRunning(id: ProcessId): boolean {
  if (id.host !== hostname()) return true;
  if (!pidAlive(id.pid)) return false;
  if (id.start === null) return true;
  const now = processStart(id.pid);
  return now === null || now === id.start;
}
