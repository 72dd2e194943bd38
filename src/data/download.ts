import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** A network or HTTP problem: the part file, if any, is kept so that a rerun resumes. */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
}

/**
 * Seconds without a byte from the server before a download is given up: the default, and the most Node's own
 * fetch allows (its undici client gives up after 300 s without headers or body data, whatever we ask).
 */
export const STALL_SECONDS = { default: 60, max: 300 } as const;

/** Raised through the abort signal when nothing arrived for the stall timeout. */
class Stalled extends Error {
  constructor(readonly seconds: number) {
    super(`no data for ${seconds} s`);
  }
}

/** An abort signal that fires after `seconds` without a call to `alive()`, until `stop()`. */
function stallWatch(seconds: number): { signal: AbortSignal; alive(): void; stop(): void } {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const alive = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Stalled(seconds)), seconds * 1000);
  };
  alive();
  return { signal: controller.signal, alive, stop: () => clearTimeout(timer) };
}

export interface DownloadProgress {
  /** Bytes of the whole resource held so far, including any resumed part. */
  readonly received: number;
  /** Size of the whole resource, when the server says. */
  readonly total: number | undefined;
}

export interface DownloadOptions {
  readonly url: string;
  /** The part file: appended to when the server honours a range request, else rewritten. */
  readonly dest: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Give up when the server sends nothing (headers or data) for this long; default STALL_SECONDS.default. */
  readonly stallSeconds?: number;
}

export interface Downloaded {
  readonly bytes: number;
  /** Hex MD5 of the whole file, computed as it was written (plus the resumed prefix, read back). */
  readonly md5: string;
  /** Bytes that were already on disk from an earlier attempt (0 for a fresh download). */
  readonly resumedFrom: number;
}

/** The innermost useful words of a fetch failure, e.g. `getaddrinfo ENOTFOUND host` or `other side closed`. */
export function describeFailure(e: unknown): string {
  let cause: unknown = e;
  // undici wraps the socket error: TypeError('fetch failed' | 'terminated', { cause }).
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (cause.message) return cause.message;
    if (code) return code;
    // An AggregateError from trying several addresses has no message of its own.
    if (cause instanceof AggregateError && cause.errors.length > 0) return describeFailure(cause.errors[0]);
  }
  return String(cause);
}

const sizeOf = async (path: string): Promise<number> => {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
};

/** Start offset of a `Content-Range: bytes START-END/TOTAL` header. */
function rangeStart(header: string | null): number | undefined {
  const m = header === null ? null : /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header.trim());
  return m ? Number(m[1]) : undefined;
}

function rangeTotal(header: string | null): number | undefined {
  const m = header === null ? null : /\/(\d+)$/.exec(header.trim());
  return m ? Number(m[1]) : undefined;
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

const isAbort = (e: unknown, signal: AbortSignal | undefined): boolean =>
  signal?.aborted === true || (e instanceof Error && e.name === 'AbortError');

/** The stall, as the error to report, when it is what stopped the transfer (not the user's signal). */
const stallOf = (stall: AbortSignal): Stalled | undefined => (stall.aborted && stall.reason instanceof Stalled ? stall.reason : undefined);

const stallAdvice = (seconds: number) => `nothing from the server for ${seconds} s (--stall-timeout to wait longer)`;

async function request(url: string, offset: number, signal: AbortSignal | undefined, stall: ReturnType<typeof stallWatch>): Promise<Response> {
  try {
    const res = await fetch(url, {
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
      signal: signal ? AbortSignal.any([signal, stall.signal]) : stall.signal,
      redirect: 'follow',
    });
    stall.alive();
    return res;
  } catch (e) {
    if (signal?.aborted) throw e;
    const stalled = stallOf(stall.signal);
    throw new DownloadError(`cannot download ${url}: ${stalled ? stallAdvice(stalled.seconds) : describeFailure(e)}`);
  }
}

/**
 * Downloads `url` into `dest`, resuming from what `dest` already holds when the server supports HTTP ranges
 * and starting over when it does not. The caller verifies the returned MD5: a resumed prefix from a resource
 * that has since changed shows up there, not here.
 */
export async function downloadResumable(options: DownloadOptions): Promise<Downloaded> {
  const stall = stallWatch(options.stallSeconds ?? STALL_SECONDS.default);
  try {
    return await transfer(options, stall);
  } finally {
    stall.stop();
  }
}

async function transfer({ url, dest, signal, onProgress }: DownloadOptions, stall: ReturnType<typeof stallWatch>): Promise<Downloaded> {
  let offset = await sizeOf(dest);
  let res = await request(url, offset, signal, stall);

  if (offset > 0 && res.status === 416) {
    // Nothing after `offset`: the part already holds the whole resource (the checksum will tell).
    await res.body?.cancel();
    const hash = createHash('md5');
    await hashFile(dest, hash);
    onProgress?.({ received: offset, total: offset });
    return { bytes: offset, md5: hash.digest('hex'), resumedFrom: offset };
  }
  if (offset > 0 && !(res.status === 206 && rangeStart(res.headers.get('content-range')) === offset)) {
    // The server ignored or misread the range: start over rather than splice mismatched bytes.
    await res.body?.cancel();
    await rm(dest, { force: true });
    offset = 0;
    res = await request(url, 0, signal, stall);
  }
  if (!res.ok || res.body === null) {
    await res.body?.cancel();
    throw new DownloadError(`cannot download ${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  }

  const length = res.headers.get('content-length');
  const total =
    res.status === 206
      ? (rangeTotal(res.headers.get('content-range')) ?? (length !== null ? offset + Number(length) : undefined))
      : length !== null
        ? Number(length)
        : undefined;

  const hash = createHash('md5');
  if (offset > 0) await hashFile(dest, hash);
  // Reading back a long resumed prefix is our time, not the server's.
  stall.alive();
  let received = offset;
  onProgress?.({ received, total });
  try {
    await pipeline(
      Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          stall.alive();
          hash.update(chunk);
          received += chunk.length;
          onProgress?.({ received, total });
          yield chunk;
        }
      },
      createWriteStream(dest, { flags: offset > 0 ? 'a' : 'w' }),
      { signal: signal ? AbortSignal.any([signal, stall.signal]) : stall.signal },
    );
  } catch (e) {
    if (signal?.aborted) throw e;
    const stalled = stallOf(stall.signal);
    if (!stalled && isAbort(e, signal)) throw e;
    const of = total !== undefined ? ` of ${total}` : '';
    throw new DownloadError(`download of ${url} stopped after ${received}${of} bytes (${stalled ? stallAdvice(stalled.seconds) : describeFailure(e)})`);
  }
  if (total !== undefined && received !== total) {
    throw new DownloadError(`download of ${url} stopped after ${received} of ${total} bytes`);
  }
  return { bytes: received, md5: hash.digest('hex'), resumedFrom: offset };
}
