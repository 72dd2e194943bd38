import { join } from 'node:path';
import { err, ok, type Result } from '../result.js';
import { decodeAll, decoderVersion } from './image-decode.js';
import { cacheDigest, cacheFileName, cacheFolders, findCache, writeCache, type Split } from './image-cache.js';
import { scanImageFolder, type ImageFile } from './image-folder-scan.js';
import { makeImageSet, subset, type Geometry, type ImageSet } from './image-set.js';

export interface LoadImageFolderOptions {
  /** Side of the stored square images. */
  readonly size: number;
  /** Keep only the first N training images (the folder's order interleaves classes, so a prefix is balanced). */
  readonly trainLimit?: number;
  /** Progress and cache narration, one line each. */
  readonly note?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

export interface ImageFolderData {
  readonly train: ImageSet;
  readonly validation: ImageSet;
  readonly classes: readonly string[];
  /** The split folders and the cache files read or written, so a run records what it trained on. */
  readonly files: string[];
}

interface SplitRequest {
  readonly root: string;
  readonly split: Split;
  readonly files: readonly ImageFile[];
  readonly classes: readonly string[];
  readonly size: number;
  readonly note: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** A split from its cache, or decoded and then cached. */
async function loadSplit(req: SplitRequest): Promise<Result<{ set: ImageSet; cache: string }, string>> {
  const { root, split, files, classes, size, note } = req;
  const geometry: Geometry = { height: size, width: size, classes: classes.length };
  const folders = cacheFolders(root, req.env);
  const name = cacheFileName(split, size, cacheDigest(split, size, files, classes, await decoderVersion()));
  const hit = findCache(folders, name, { ...geometry, count: files.length });
  if (hit) return ok({ set: makeImageSet(hit.split.images, hit.split.labels, geometry), cache: hit.path });

  const dir = join(root, split);
  note(`decoding ${files.length} images of ${dir} to ${size}x${size} (first read, or the folder changed); they are cached afterwards`);
  const started = performance.now();
  const decoded = await decodeAll(files.map((f) => f.path), size);
  if (!decoded.ok) return decoded;
  const labels = Uint16Array.from(files, (f) => f.label);
  const written = writeCache(folders, name, geometry, { images: decoded.value, labels });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  note(written.ok ? `decoded ${dir} in ${seconds} s; cached in ${written.value}` : `decoded ${dir} in ${seconds} s; not cached: ${written.error}`);
  return ok({ set: makeImageSet(decoded.value, labels, geometry), cache: written.ok ? written.value : dir });
}

/**
 * Loads an image folder (layout in image-folder-scan.ts): every image resized to size×size RGB, from the cache
 * beside the data when it matches the folder, else decoded and cached. Bad input (no classes, an empty class,
 * an unreadable or corrupt image) is an error naming the folder or file.
 */
export async function loadImageFolder(root: string, opts: LoadImageFolderOptions): Promise<Result<ImageFolderData, string>> {
  const { size, trainLimit } = opts;
  if (!Number.isInteger(size) || size < 1) return err(`image size must be a positive integer, got ${size}`);
  if (trainLimit !== undefined && (!Number.isInteger(trainLimit) || trainLimit < 1)) return err(`trainLimit must be a positive integer, got ${trainLimit}`);
  const listing = scanImageFolder(root);
  if (!listing.ok) return listing;
  const { classes } = listing.value;
  const note = opts.note ?? (() => {});
  const train = await loadSplit({ root, split: 'train', files: listing.value.train, classes, size, note, env: opts.env });
  if (!train.ok) return train;
  const val = await loadSplit({ root, split: 'val', files: listing.value.val, classes, size, note, env: opts.env });
  if (!val.ok) return val;
  let trainSet = train.value.set;
  if (trainLimit !== undefined && trainLimit < trainSet.count) trainSet = subset(trainSet, { start: 0, end: trainLimit });
  return ok({ train: trainSet, validation: val.value.set, classes, files: [train.value.cache, val.value.cache] });
}
