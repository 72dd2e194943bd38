import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { err, InputError, ok, type Result } from '../result.js';
import { ArchiveError, cifar10Files, cifar10Present, extractCifar10, installCifar10 } from './cifar10-archive.js';
import { DownloadError, downloadResumable, STALL_SECONDS, type DownloadProgress } from './download.js';
import { cacheDataDir } from './locate.js';

/** The official binary release (https://www.cs.toronto.edu/~kriz/cifar.html). */
export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const CIFAR10_BYTES = 170_052_171;

export interface FetchSource {
  /** The folder that will hold data_batch_*.bin (what `run` takes as data.dir). */
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
 * Flags, then the environment (RESNET_EXP_DATA, RESNET_EXP_CIFAR_URL, RESNET_EXP_CIFAR_MD5), then the official
 * release into the per-user cache. RESNET_EXP_DATA is honoured because `run` reads the data from there when set.
 */
export function resolveFetchSource(flags: FetchFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Result<FetchSource, string> {
  // An empty variable counts as unset, as it does for `run`.
  const dir = flags.dataDir ?? (env.RESNET_EXP_DATA || undefined);
  const url = flags.url ?? (env.RESNET_EXP_CIFAR_URL || CIFAR10_URL);
  const md5 = (flags.md5 ?? (env.RESNET_EXP_CIFAR_MD5 || CIFAR10_MD5)).toLowerCase();
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
  return ok({ dataDir: dir === undefined ? cacheDataDir(env) : resolve(cwd, dir), url, md5, stallSeconds });
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
  const { dataDir, url, md5 } = opts;
  if (!opts.force && cifar10Present(dataDir)) {
    return { status: 'present', dataDir, url, md5, bytes: 0, resumedFrom: 0, files: await cifar10Files(dataDir) };
  }
  prepareParent(dataDir);
  const { part, staging, lock } = fetchWorkPaths(dataDir);
  const release = acquireLock(lock, dataDir);
  try {
    const partSize = statSync(part, { throwIfNoEntry: false })?.size ?? 0;
    opts.onNote?.(partSize > 0 ? `resuming ${url} at byte ${partSize}` : `downloading ${url}`);
    const got = await download(opts, part);
    opts.onNote?.(`MD5 ${md5} verified; extracting into ${dataDir}`);
    await rm(staging, { recursive: true, force: true });
    let extracted: string;
    try {
      extracted = await extractCifar10(part, staging);
    } catch (e) {
      // The archive matched the checksum, so downloading it again would give the same refusal.
      if (e instanceof ArchiveError) await rm(part, { force: true });
      throw e;
    }
    await installCifar10(extracted, dataDir);
    await rm(part, { force: true });
    return { status: 'downloaded', dataDir, url, md5, bytes: got.bytes, resumedFrom: got.resumedFrom, files: await cifar10Files(dataDir) };
  } finally {
    // After a failed extraction tar may still be closing files in there: retry rather than mask the error.
    await rm(staging, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    release();
  }
}

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
 * Downloads the CIFAR-10 binary archive, verifies its MD5 and installs its eight files into `dataDir`, unless
 * they are already there (or `force`). Nothing incomplete is ever left inside `dataDir`: the archive is a part
 * file beside it (kept on a network failure or interruption so a rerun resumes, deleted on a checksum
 * mismatch), extraction happens in a staging folder beside it, and files are moved in by rename.
 */
export async function fetchCifar10(opts: FetchOptions): Promise<Result<FetchReport, FetchProblem>> {
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
