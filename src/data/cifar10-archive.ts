import { chmod, mkdir, open, readdir, rename, stat } from 'node:fs/promises';
import { existsSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { extract, type ReadEntry } from 'tar';
import { CIFAR_RECORD_BYTES } from './cifar10-format.js';

/** The folder every member of the official binary archive lives in. */
export const CIFAR10_ARCHIVE_DIR = 'cifar-10-batches-bin';

/** Every regular file of the official archive; nothing else is extracted. */
export const CIFAR10_FILES = [
  'batches.meta.txt',
  'readme.html',
  'test_batch.bin',
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
] as const;

/** The archive holds something other than the expected files, or lacks one of them. */
export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
}

/** Extract an expected regular file, skip the folder entry itself, refuse anything else (saying why). */
type MemberVerdict = { action: 'extract' } | { action: 'skip' } | { action: 'refuse'; why: string };

function judgeMember(path: string, type: string, seen: Set<string>): MemberVerdict {
  if (type === 'Directory' && (path === CIFAR10_ARCHIVE_DIR || path === `${CIFAR10_ARCHIVE_DIR}/`)) return { action: 'skip' };
  const name = path.startsWith(`${CIFAR10_ARCHIVE_DIR}/`) ? path.slice(CIFAR10_ARCHIVE_DIR.length + 1) : undefined;
  const quoted = JSON.stringify(path);
  if (name === undefined || !(CIFAR10_FILES as readonly string[]).includes(name)) return { action: 'refuse', why: `unexpected member ${quoted}` };
  // Links could point the reader (or a later member) outside the target; the official archive has none.
  if (type !== 'File' && type !== 'OldFile') return { action: 'refuse', why: `member ${quoted} is a ${type}, not a regular file` };
  if (seen.has(name)) return { action: 'refuse', why: `member ${quoted} appears twice` };
  seen.add(name);
  return { action: 'extract' };
}

/**
 * Extracts the expected regular files of `archive` (a .tar.gz) into `staging`/cifar-10-batches-bin and returns
 * that folder. Any other member — a path outside the folder, an absolute path, a link, a device, an unknown
 * name — is not written and makes the whole archive an error; so does a missing file. `staging` is the caller's
 * to delete.
 */
export async function extractCifar10(archive: string, staging: string): Promise<string> {
  await mkdir(staging, { recursive: true });
  const seen = new Set<string>();
  const refused: string[] = [];
  try {
    await extract({
      file: archive,
      cwd: staging,
      strict: true,
      preserveOwner: false,
      // The filter sees each member's raw path and type, before tar's own sanitising.
      filter: (path: string, entry: ReadEntry | Stats) => {
        const verdict = judgeMember(path, 'type' in entry ? entry.type : 'unknown', seen);
        if (verdict.action === 'refuse') refused.push(verdict.why);
        return verdict.action === 'extract';
      },
    });
  } catch (e) {
    throw new ArchiveError(`cannot extract ${archive}: ${(e as Error).message}`);
  }
  if (refused.length > 0) {
    throw new ArchiveError(`refusing archive ${archive}: ${refused[0]}${refused.length > 1 ? ` (and ${refused.length - 1} more)` : ''}`);
  }
  const missing = CIFAR10_FILES.filter((name) => !seen.has(name));
  if (missing.length > 0) throw new ArchiveError(`archive ${archive} lacks ${CIFAR10_ARCHIVE_DIR}/${missing.join(', ')}`);
  const folder = join(staging, CIFAR10_ARCHIVE_DIR);
  await checkRecordSizes(archive, folder);
  return folder;
}

/**
 * Every .bin must be whole records: installed, a torn one would only be refused later by `run`, and it would make
 * `fetch` report the data as present from then on.
 */
async function checkRecordSizes(archive: string, folder: string): Promise<void> {
  for (const name of CIFAR10_FILES.filter((n) => n.endsWith('.bin'))) {
    const { size } = await stat(join(folder, name));
    if (size === 0 || size % CIFAR_RECORD_BYTES !== 0) {
      throw new ArchiveError(
        `refusing archive ${archive}: ${CIFAR10_ARCHIVE_DIR}/${name} is ${size} bytes, not a whole number of ${CIFAR_RECORD_BYTES}-byte records`,
      );
    }
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Moves the extracted files into `target` so that the reader sees each file either absent or complete: a fresh
 * target is one folder rename; into an existing one, each file is renamed over, data batches last (the reader
 * takes a folder with any data batch as data).
 */
export async function installCifar10(extracted: string, target: string): Promise<void> {
  for (const name of CIFAR10_FILES) {
    const path = join(extracted, name);
    // Archive modes are the packer's; the data only has to be readable.
    await chmod(path, 0o644);
    await fsyncPath(path);
  }
  if (!existsSync(target)) {
    await rename(extracted, target);
  } else {
    if (!(await stat(target)).isDirectory()) throw new ArchiveError(`${target} exists and is not a folder`);
    for (const name of CIFAR10_FILES) await rename(join(extracted, name), join(target, name));
  }
  await fsyncPath(target);
}

/** Whether `dir` already holds every file of the data set, with whole records in each batch. */
export function cifar10Present(dir: string): boolean {
  return CIFAR10_FILES.every((name) => {
    try {
      const s = statSync(join(dir, name));
      if (!s.isFile()) return false;
      return !name.endsWith('.bin') || (s.size > 0 && s.size % CIFAR_RECORD_BYTES === 0);
    } catch {
      return false;
    }
  });
}

/** Files of the data set in `dir`, for reports. */
export async function cifar10Files(dir: string): Promise<string[]> {
  const names = new Set(await readdir(dir));
  return CIFAR10_FILES.filter((n) => names.has(n)).map((n) => join(dir, n));
}
