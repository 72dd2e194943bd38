import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { err, ok, type Result } from '../result.js';
import type { ImageFile } from './image-folder-scan.js';
import { imageBytes, type Geometry } from './image-set.js';

/**
 * Decoded image folders, cached as one binary file per split and size:
 *
 *   "RXIMGC1\n" · uint32 LE header length · header JSON {version, count, height, width, classes}
 *   · count uint16 LE labels · count × height × width × 3 bytes of RGB pixels (NHWC)
 *
 * The file name carries a digest of everything the bytes depend on (each file's path, class, size and
 * modification time, the image size, the decoder's version), so a changed folder misses and is decoded again.
 * Files are written under a temporary name and renamed into place: a reader sees a whole cache or none.
 */

const MAGIC = Buffer.from('RXIMGC1\n', 'latin1');
const VERSION = 1;
export const CACHE_FOLDER = '.resnet-exp-cache';

export type Split = 'train' | 'val';

export interface CachedSplit {
  readonly images: Uint8Array;
  readonly labels: Uint16Array;
}

/** Hex digest of what a split's decoded bytes depend on. */
export function cacheDigest(split: Split, size: number, files: readonly ImageFile[], classes: readonly string[], decoder: string): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ version: VERSION, split, size, decoder, classes }));
  for (const f of files) hash.update(`\n${f.rel}\t${f.label}\t${f.bytes}\t${f.mtimeMs}`);
  return hash.digest('hex').slice(0, 16);
}

export const cacheFileName = (split: Split, size: number, digest: string): string => `${split}-${size}px-${digest}.bin`;
const OURS = /^(train|val)-(\d+)px-[0-9a-f]{16}\.bin$/;

/**
 * Where caches of `root` may live: beside the data, else (for a folder we cannot write in, such as a shared
 * read-only copy) in the per-user cache, under a digest of the folder's absolute path.
 */
export function cacheFolders(root: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const userCache = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  const id = createHash('sha256').update(resolve(root)).digest('hex').slice(0, 16);
  return [join(root, CACHE_FOLDER), join(userCache, 'resnet-exp', 'image-cache', id)];
}

/**
 * The cached split at `path` if it is there and exactly what is expected; undefined otherwise (absent, or not a
 * whole cache of this shape: the caller decodes again and writes over it).
 */
export function readCache(path: string, expected: Geometry & { count: number }): CachedSplit | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return undefined;
  }
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  const headerStart = MAGIC.length + 4;
  let header: unknown;
  try {
    header = JSON.parse(bytes.subarray(headerStart, headerStart + headerLength).toString('utf8'));
  } catch {
    return undefined;
  }
  const { count, height, width, classes } = expected;
  const want = { version: VERSION, count, height, width, classes };
  if (JSON.stringify(header) !== JSON.stringify(want)) return undefined;
  const labelsStart = headerStart + headerLength;
  const pixelsStart = labelsStart + 2 * count;
  if (bytes.length !== pixelsStart + count * imageBytes(expected)) return undefined;
  const labels = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = bytes.readUInt16LE(labelsStart + 2 * i);
    if (labels[i] >= classes) return undefined;
  }
  return { images: new Uint8Array(bytes.buffer, bytes.byteOffset + pixelsStart, count * imageBytes(expected)), labels };
}

/** The first folder of `folders` holding `name` as a valid cache. */
export function findCache(folders: readonly string[], name: string, expected: Geometry & { count: number }): { path: string; split: CachedSplit } | undefined {
  for (const folder of folders) {
    const path = join(folder, name);
    const split = readCache(path, expected);
    if (split) return { path, split };
  }
  return undefined;
}

const code = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);
// Not ours to write in: permissions, a read-only mount, or a file of the user's where our folder would be.
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'EEXIST', 'ENOTDIR']);

function writeAtomically(path: string, parts: readonly Uint8Array[]): void {
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    for (const part of parts) {
      for (let at = 0; at < part.length; ) at += writeSync(fd, part, at);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/**
 * Deletes older caches of the same split and size beside `keep`: files resnet-exp wrote (by their name, in its
 * own cache folder) that a changed folder has made useless. Anything else there is left alone.
 */
function removeStale(folder: string, keep: string): void {
  const match = OURS.exec(keep);
  if (!match) return;
  for (const name of readdirSync(folder)) {
    const other = OURS.exec(name);
    if (name !== keep && other && other[1] === match[1] && other[2] === match[2]) rmSync(join(folder, name), { force: true });
  }
}

/**
 * Writes a split into the first of `folders` that can take it; returns the path written. Failing everywhere is
 * an error naming the last reason (training without a cache would decode every image again next time).
 */
export function writeCache(folders: readonly string[], name: string, geometry: Geometry, split: CachedSplit): Result<string, string> {
  const count = split.labels.length;
  const header = Buffer.from(JSON.stringify({ version: VERSION, count, height: geometry.height, width: geometry.width, classes: geometry.classes }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const labels = Buffer.alloc(2 * count);
  for (let i = 0; i < count; i++) labels.writeUInt16LE(split.labels[i], 2 * i);
  let last = '';
  for (const folder of folders) {
    const path = join(folder, name);
    try {
      mkdirSync(folder, { recursive: true });
      writeAtomically(path, [MAGIC, length, header, labels, split.images]);
    } catch (e) {
      last = `cannot write ${path} (${code(e)})`;
      if (NOT_WRITABLE.has(code(e))) continue;
      return err(last);
    }
    try {
      removeStale(folder, name);
    } catch {
      // Only housekeeping: the new cache is in place.
    }
    return ok(path);
  }
  return err(last);
}
