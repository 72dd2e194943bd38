import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { err, InputError, ok, type Result } from '../result.js';
import { ArchiveError, extractRelease, installRelease, releaseFiles, releasePresent } from './archive.js';
import { DownloadError, downloadResumable, STALL_SECONDS, type DownloadProgress } from './download.js';
import { cacheDataDir } from './locate.js';
import type { CifarRelease } from './releases.js';

export interface FetchSource {
  readonly release: CifarRelease;
  /** The folder that will hold the release's files (what `run` takes as data.dir). */
  readonly dataDir: string;
  readonly url: string;
  /** Lower-case hex. */
  readonly md5: string;
  /** Seconds without a byte from the server before giving up (what arrived is kept for a rerun); default 60. */
  readonly stallSeconds?: number;
}

export interface FetchFlags {
  readonly dataDir?: string;
  readonly url?: string;
  readonly md5?: string;
  readonly stallTimeout?: number;
}

/**
 * Flags, then the environment, then the official release into the per-user cache. The release names its URL
 * and MD5 variables (RESNET_EXP_CIFAR_URL/MD5 for CIFAR-10, RESNET_EXP_CIFAR100_URL/MD5 for CIFAR-100).
 * RESNET_EXP_DATA is honoured for CIFAR-10 only, because it is where `run` reads CIFAR-10 from.
 */
export function resolveFetchSource(
  release: CifarRelease,
  flags: FetchFlags,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Result<FetchSource, string> {
  // An empty variable counts as unset, as it does for `run`.
  const dir = flags.dataDir ?? (release.id === 'cifar10' ? env.RESNET_EXP_DATA || undefined : undefined);
  const url = flags.url ?? (env[release.env.url] || release.url);
  const md5 = (flags.md5 ?? (env[release.env.md5] || release.md5)).toLowerCase();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return err(`invalid download URL ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return err(`download URL ${url} is not http(s)`);
  if (!/^[0-9a-f]{32}$/.test(md5)) return err(`MD5 ${JSON.stringify(md5)} is not 32 hex digits`);
  if (dir === '') return err('--data-dir is empty');
  const stallSeconds = flags.stallTimeout ?? STALL_SECONDS.default;
  if (!Number.isInteger(stallSeconds) || stallSeconds < 1 || stallSeconds > STALL_SECONDS.max) {
    return err(`--stall-timeout ${flags.stallTimeout}: give whole seconds from 1 to ${STALL_SECONDS.max} (Node's fetch gives up after ${STALL_SECONDS.max} s itself)`);
  }
  return ok({ release, dataDir: dir === undefined ? cacheDataDir(env, release.folder) : resolve(cwd, dir), url, md5, stallSeconds });
}

/** Where the pieces of an unfinished fetch live: beside the target, never inside it, so `run` cannot take them. */
export function fetchWorkPaths(dataDir: string) {
  return { part: `${dataDir}.tar.gz.part`, staging: `${dataDir}.extract`, lock: `${dataDir}.lock` };
}

export interface FetchReport {
  status: 'downloaded' | 'present';
  dataDir: string;
  url: string;
  md5: string;
  /** Archive bytes held at the end (0 when the data was already present). */
  bytes: number;
  /** Bytes kept from an earlier, interrupted attempt. */
  resumedFrom: number;
  files: string[];
}

export type FetchProblemKind = 'input' | 'download' | 'checksum' | 'archive' | 'busy' | 'interrupted';
export interface FetchProblem {
  kind: FetchProblemKind;
  message: string;
}

export interface FetchOptions extends FetchSource {
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Progress narration, one line each (the CLI logs them at info level). */
  readonly onNote?: (line: string) => void;
}

class FetchFailure extends Error {
  constructor(
    readonly kind: FetchProblemKind,
    message: string,
  ) {
    super(message);
  }
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** One fetch per target at a time: two appending to the same part file would only fail the checksum later. */
function acquireLock(path: string, dataDir: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new InputError(`cannot write in ${dirname(path)}: ${code ?? String(e)}`);
      const holder = Number(readFileSync(path, 'utf8').trim());
      // An empty file is a holder between creating and writing it: busy too.
      if (!(Number.isInteger(holder) && holder > 0) || (holder !== process.pid && pidAlive(holder))) {
        const who = holder > 0 ? ` (pid ${holder})` : '';
        throw new FetchFailure('busy', `another resnet-exp fetch${who} is writing ${dataDir}; wait for it, or remove ${path} if it is gone`);
      }
      // Left by a process that died: take it over.
      rmSync(path, { force: true });
    }
  }
  throw new FetchFailure('busy', `cannot take the lock ${path}`);
}

function prepareParent(dataDir: string): void {
  try {
    const s = statSync(dataDir, { throwIfNoEntry: false });
    if (s !== undefined && !s.isDirectory()) throw new InputError(`data folder ${dataDir} exists and is not a folder`);
    mkdirSync(dirname(dataDir), { recursive: true });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot create ${dirname(dataDir)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

async function download(opts: FetchOptions, part: string): Promise<{ bytes: number; resumedFrom: number }> {
  // A resumed prefix can come from a different file (the server's changed, or a bad earlier transfer): if the
  // checksum fails after resuming, the only cure is a fresh download, so try once more from zero.
  for (let attempt = 0; ; attempt++) {
    const got = await downloadResumable({ url: opts.url, dest: part, signal: opts.signal, onProgress: opts.onProgress, stallSeconds: opts.stallSeconds });
    if (got.md5 === opts.md5) return got;
    await rm(part, { force: true });
    if (got.resumedFrom > 0 && attempt === 0) {
      opts.onNote?.(`MD5 ${got.md5} after resuming at byte ${got.resumedFrom} does not match; downloading again from the start`);
      continue;
    }
    throw new FetchFailure(
      'checksum',
      `MD5 mismatch for ${opts.url}: expected ${opts.md5}, got ${got.md5} (${got.bytes} bytes); the download was deleted`,
    );
  }
}

async function fetchInto(opts: FetchOptions): Promise<FetchReport> {
  const { release, dataDir, url, md5 } = opts;
  if (!opts.force && releasePresent(release, dataDir)) {
    return { status: 'present', dataDir, url, md5, bytes: 0, resumedFrom: 0, files: await releaseFiles(release, dataDir) };
  }
  prepareParent(dataDir);
  const { part, staging, lock } = fetchWorkPaths(dataDir);
  const unlock = acquireLock(lock, dataDir);
  try {
    const partSize = statSync(part, { throwIfNoEntry: false })?.size ?? 0;
    opts.onNote?.(partSize > 0 ? `resuming ${url} at byte ${partSize}` : `downloading ${url}`);
    const got = await download(opts, part);
    opts.onNote?.(`MD5 ${md5} verified; extracting into ${dataDir}`);
    await rm(staging, { recursive: true, force: true });
    let extracted: string;
    try {
      extracted = await extractRelease(release, part, staging);
    } catch (e) {
      // The archive matched the checksum, so downloading it again would give the same refusal.
      if (e instanceof ArchiveError) await rm(part, { force: true });
      throw e;
    }
    await installRelease(release, extracted, dataDir);
    await rm(part, { force: true });
    return { status: 'downloaded', dataDir, url, md5, bytes: got.bytes, resumedFrom: got.resumedFrom, files: await releaseFiles(release, dataDir) };
  } finally {
    // After a failed extraction tar may still be closing files in there: retry rather than mask the error.
    await rm(staging, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    unlock();
  }
}

/**
/**
 * What a rerun will find, as it is on disk now: the bytes kept to resume from, or nothing (an empty part file,
 * made before the first byte arrived, is removed rather than promised).
 */
async function keptPart(dataDir: string): Promise<string> {
  const { part } = fetchWorkPaths(dataDir);
  const size = statSync(part, { throwIfNoEntry: false })?.size;
  if (size === undefined || size === 0) {
    await rm(part, { force: true });
    return '; nothing was downloaded: rerun to try again';
  }
  return `; ${size} bytes are kept in ${part}: rerun to resume`;
}

/**
 * Downloads a release's archive, verifies its MD5 and installs its files into `dataDir`, unless they are
 * already there (or `force`). Nothing incomplete is ever left inside `dataDir`: the archive is a part
 * file beside it (kept on a network failure or interruption so a rerun resumes, deleted on a checksum
 * mismatch), extraction happens in a staging folder beside it, and files are moved in by rename.
 */
export async function fetchRelease(opts: FetchOptions): Promise<Result<FetchReport, FetchProblem>> {
  try {
    return ok(await fetchInto(opts));
  } catch (e) {
    if (opts.signal?.aborted) return err({ kind: 'interrupted', message: `fetch interrupted${await keptPart(opts.dataDir)}` });
    if (e instanceof FetchFailure) return err({ kind: e.kind, message: e.message });
    if (e instanceof InputError) return err({ kind: 'input', message: e.message });
    if (e instanceof DownloadError) return err({ kind: 'download', message: `${e.message}${await keptPart(opts.dataDir)}` });
    if (e instanceof ArchiveError) return err({ kind: 'archive', message: e.message });
    throw e;
  }
}
