import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FolderLock, LOCK_FILE, lockHolder } from '../../src/record/lock.js';
import { processStart } from '../../src/record/process.js';
import { withTempDir } from '../helpers/cli.js';

/** Whose lock is it: stale locks are taken over, live ones refused, and nothing is guessed about other hosts. */

const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

const plant = (dir: string, holder: { pid: number; start: string | null; host?: string }) =>
  writeFileSync(join(dir, LOCK_FILE), `${JSON.stringify({ host: hostname(), since: '2026-01-01T00:00:00.000Z', ...holder })}\n`);

const refused = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof Error && e.name === 'InputError', String(e));
  assert.match(e.message, pattern);
  return true;
};

describe('run folder lock', () => {
  it('is exclusive: a second taker (even this process) is refused naming the holder; release lets the next one in', async () => {
    await withTempDir(async (dir) => {
      const lock = FolderLock.acquire(dir);
      assert.equal(lockHolder(dir)?.pid, process.pid);
      assert.throws(() => FolderLock.acquire(dir), refused(new RegExp(`in use by another resnet-exp process \\(pid ${process.pid}, since `)));
      lock.release();
      assert.ok(!existsSync(join(dir, LOCK_FILE)));
      assert.equal(lockHolder(dir), undefined);
      FolderLock.acquire(dir).release();
    });
  });

  it('a live process holding it (pid and start time match) is respected', async () => {
    await withTempDir(async (dir) => {
      plant(dir, { pid: process.ppid, start: processStart(process.ppid) });
      assert.throws(() => FolderLock.acquire(dir), refused(new RegExp(`pid ${process.ppid}\\b`)));
      assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.ppid);
    });
  });

  it('is taken over from a dead process, and from a pid that now belongs to a later process', async () => {
    await withTempDir(async (dir) => {
      plant(dir, { pid: deadPid(), start: '1' });
      assert.equal(lockHolder(dir), undefined);
      FolderLock.acquire(dir).release();
      // Alive, but started at another time than the holder: the number was reused.
      plant(dir, { pid: process.ppid, start: '1' });
      assert.equal(lockHolder(dir), undefined);
      const lock = FolderLock.acquire(dir);
      assert.equal(lockHolder(dir)?.pid, process.pid);
      lock.release();
    });
  });

  it('a lock from another host, or one resnet-exp did not write, is never taken', async () => {
    await withTempDir(async (dir) => {
      plant(dir, { pid: deadPid(), start: null, host: 'node-17.cluster' });
      assert.throws(() => FolderLock.acquire(dir), refused(new RegExp(`pid \\d+ on node-17\\.cluster.*remove ${join(dir, LOCK_FILE)}`)));
      writeFileSync(join(dir, LOCK_FILE), 'not json');
      assert.throws(() => FolderLock.acquire(dir), refused(/is not a lock resnet-exp wrote/));
      assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), 'not json');
    });
  });

  it('release removes only its own lock', async () => {
    await withTempDir(async (dir) => {
      const lock = FolderLock.acquire(dir);
      // Someone removed it by hand and another process took the folder.
      plant(dir, { pid: process.ppid, start: processStart(process.ppid) });
      lock.release();
      assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.ppid);
    });
  });
});
