import { chmod, mkdir, open, readdir, rename, stat } from 'node:fs/promises';
import { existsSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { extract, type ReadEntry } from 'tar';
import type { CifarRelease } from './releases.js';

/** The archive holds something other than the expected files, or lacks one of them. */
export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
}

/** Extract an expected regular file, skip the folder entry itself, refuse anything else (saying why). */
type MemberVerdict = { action: 'extract' } | { action: 'skip' } | { action: 'refuse'; why: string };

function judgeMember(release: CifarRelease, path: string, type: string, seen: Set<string>): MemberVerdict {
  const folder = release.folder;
  if (type === 'Directory' && (path === folder || path === `${folder}/`)) return { action: 'skip' };
  const name = path.startsWith(`${folder}/`) ? path.slice(folder.length + 1) : undefined;
  const quoted = JSON.stringify(path);
  if (name === undefined || !release.files.includes(name)) return { action: 'refuse', why: `unexpected member ${quoted}` };
  // Links could point the reader (or a later member) outside the target; the official archive has none.
  if (type !== 'File' && type !== 'OldFile') return { action: 'refuse', why: `member ${quoted} is a ${type}, not a regular file` };
  if (seen.has(name)) return { action: 'refuse', why: `member ${quoted} appears twice` };
  seen.add(name);
  return { action: 'extract' };
}

/**
 * Extracts the expected regular files of `archive` (a .tar.gz) into `staging`/<release folder> and returns
 * that folder. Any other member — a path outside the folder, an absolute path, a link, a device, an unknown
 * name — is not written and makes the whole archive an error; so does a missing file. `staging` is the caller's
 * to delete.
 */
export async function extractRelease(release: CifarRelease, archive: string, staging: string): Promise<string> {
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
        const verdict = judgeMember(release, path, 'type' in entry ? entry.type : 'unknown', seen);
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
  const missing = release.files.filter((name) => !seen.has(name));
  if (missing.length > 0) throw new ArchiveError(`archive ${archive} lacks ${release.folder}/${missing.join(', ')}`);
  const folder = join(staging, release.folder);
  await checkRecordSizes(release, archive, folder);
  return folder;
}

/**
 * Every .bin must be whole records: installed, a torn one would only be refused later by `run`, and it would make
 * `fetch` report the data as present from then on.
 */
async function checkRecordSizes(release: CifarRelease, archive: string, folder: string): Promise<void> {
  for (const name of release.files.filter((n) => n.endsWith('.bin'))) {
    const { size } = await stat(join(folder, name));
    if (size === 0 || size % release.recordBytes !== 0) {
      throw new ArchiveError(
        `refusing archive ${archive}: ${release.folder}/${name} is ${size} bytes, not a whole number of ${release.recordBytes}-byte records`,
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
 * target is one folder rename; into an existing one, each file is renamed over, in the release's order
 * (training files last: the reader takes a folder with any training file as data).
 */
export async function installRelease(release: CifarRelease, extracted: string, target: string): Promise<void> {
  for (const name of release.files) {
    const path = join(extracted, name);
    // Archive modes are the packer's; the data only has to be readable.
    await chmod(path, 0o644);
    await fsyncPath(path);
  }
  if (!existsSync(target)) {
    await rename(extracted, target);
  } else {
    if (!(await stat(target)).isDirectory()) throw new ArchiveError(`${target} exists and is not a folder`);
    for (const name of release.files) await rename(join(extracted, name), join(target, name));
  }
  await fsyncPath(target);
}

/** Whether `dir` already holds every file of the release, with whole records in each .bin file. */
export function releasePresent(release: CifarRelease, dir: string): boolean {
  return release.files.every((name) => {
    try {
      const s = statSync(join(dir, name));
      if (!s.isFile()) return false;
      return !name.endsWith('.bin') || (s.size > 0 && s.size % release.recordBytes === 0);
    } catch {
      return false;
    }
  });
}

/** Files of the release in `dir`, for reports. */
export async function releaseFiles(release: CifarRelease, dir: string): Promise<string[]> {
  const names = new Set(await readdir(dir));
  return release.files.filter((n) => names.has(n)).map((n) => join(dir, n));
}
