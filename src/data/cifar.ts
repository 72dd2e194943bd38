import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../result.js';
import { CIFAR10_FORMAT, CIFAR_SIZE, cifar100Format, decodeCifarRecords, recordBytes, type RecordFormat } from './cifar-format.js';
import { imageBytes, makeImageSet, subset, type Geometry, type ImageSet } from './image-set.js';
import { CIFAR10, CIFAR100, type CifarRelease } from './releases.js';

export type ValidationSource = 'test' | 'split45k';

export interface LoadCifarOptions {
  /** Keep only the first N training images (applied after any train/validation split). */
  readonly trainLimit?: number;
  /**
   * 'test': validate on the test file. 'split45k': hold out the last tenth of the training images as
   * validation — with the whole release that is the paper's last 5,000 of 50,000, leaving 45,000 to train on.
   */
  readonly validation: ValidationSource;
}
export type LoadCifar10Options = LoadCifarOptions;

export interface LoadCifar100Options extends LoadCifarOptions {
  /** Which of the two label bytes to train on: the 100 fine classes or the 20 coarse superclasses. */
  readonly labels: 'fine' | 'coarse';
}

export interface CifarData {
  readonly train: ImageSet;
  readonly validation: ImageSet;
  /** Every file read, in the order read, so runs can record exactly what they trained on. */
  readonly files: string[];
}
export type Cifar10 = CifarData;

const howToGet = (release: CifarRelease): string => `run \`resnet-exp fetch ${release.id}\` or pass --data-dir`;

/** Training files present in `dir`, ordered by their number (so data_batch_10 would follow data_batch_9). */
function trainFiles(release: CifarRelease, names: string[]): string[] {
  return names
    .map((name) => ({ name, match: release.trainFile.exec(name) }))
    .filter((f): f is { name: string; match: RegExpExecArray } => f.match !== null)
    .sort((a, b) => Number(a.match[1] ?? 0) - Number(b.match[1] ?? 0))
    .map((f) => f.name);
}

async function readDir(release: CifarRelease, dir: string): Promise<Result<string[], string>> {
  const what = `${release.title} directory ${dir}`;
  try {
    if (!(await stat(dir)).isDirectory()) return err(`${release.title} path ${dir} is not a directory; ${howToGet(release)}`);
    return ok(await readdir(dir));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return err(`${what} does not exist; ${howToGet(release)}`);
    return err(`cannot read ${what} (${code ?? String(e)}); ${howToGet(release)}`);
  }
}

/** Reads and decodes `paths` as one concatenated set: files are read concurrently, decoded in order. */
async function readRecords(release: CifarRelease, format: RecordFormat, paths: string[]): Promise<Result<ImageSet, string>> {
  const size = recordBytes(format);
  const geometry: Geometry = { height: CIFAR_SIZE, width: CIFAR_SIZE, classes: format.labels[format.use].classes };
  let contents: Uint8Array[];
  try {
    // Plain Uint8Array views over the Buffers: V8 indexes them several times faster in the decode loop.
    const buffers = await Promise.all(paths.map((p) => readFile(p)));
    contents = buffers.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  } catch (e) {
    return err(`cannot read ${release.title} file: ${(e as Error).message}; ${howToGet(release)}`);
  }
  let total = 0;
  for (let i = 0; i < paths.length; i++) {
    const bytes = contents[i].length;
    if (bytes === 0 || bytes % size !== 0) {
      return err(
        `${release.title} file ${paths[i]} has ${bytes} bytes, not a positive multiple of the ${size}-byte ` +
          `record; it is truncated or not the binary release; ${howToGet(release)}`,
      );
    }
    total += bytes / size;
  }
  const images = new Uint8Array(total * imageBytes(geometry));
  const labels = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < paths.length; i++) {
    const decoded = decodeCifarRecords(contents[i], format, images, labels, at);
    if (!decoded.ok) {
      const { record, name, label, classes } = decoded.error;
      return err(
        `${release.title} file ${paths[i]} record ${record} has ${name} ${label}, outside 0-${classes - 1}; ` +
          `the file is corrupt or not the binary release; ${howToGet(release)}`,
      );
    }
    at += decoded.value;
  }
  return ok(makeImageSet(images, labels, geometry));
}

/** Size of the held-out split: a tenth, which is exactly the paper's 5,000 when all 50,000 are present. */
export function heldOutCount(trainCount: number): number {
  return Math.max(1, Math.round(trainCount / 10));
}

/** Loads a binary release from `dir`, using whichever training files are present. */
async function loadCifar(release: CifarRelease, format: RecordFormat, dir: string, opts: LoadCifarOptions): Promise<Result<CifarData, string>> {
  const { trainLimit, validation } = opts;
  if (trainLimit !== undefined && (!Number.isInteger(trainLimit) || trainLimit < 1)) {
    return err(`trainLimit must be a positive integer, got ${trainLimit}`);
  }
  const listing = await readDir(release, dir);
  if (!listing.ok) return listing;
  const trainNames = trainFiles(release, listing.value);
  if (trainNames.length === 0) {
    return err(`no ${release.id === 'cifar10' ? 'data_batch_*.bin' : 'train.bin'} in ${release.title} directory ${dir}; ${howToGet(release)}`);
  }
  if (validation === 'test' && !listing.value.includes(release.testFile)) {
    return err(`${release.testFile} is missing from ${release.title} directory ${dir}; ${howToGet(release)}`);
  }

  const trainPaths = trainNames.map((n) => join(dir, n));
  const testPaths = validation === 'test' ? [join(dir, release.testFile)] : [];
  const [allTrain, test] = await Promise.all([
    readRecords(release, format, trainPaths),
    testPaths.length ? readRecords(release, format, testPaths) : null,
  ]);
  if (!allTrain.ok) return allTrain;
  if (test !== null && !test.ok) return test;

  let train = allTrain.value;
  let held: ImageSet;
  if (test !== null) {
    held = test.value;
  } else {
    if (train.count < 2) return err(`split45k needs at least 2 training images in ${dir}, found ${train.count}`);
    const cut = train.count - heldOutCount(train.count);
    held = subset(train, { start: cut, end: train.count });
    train = subset(train, { start: 0, end: cut });
  }
  if (trainLimit !== undefined && trainLimit < train.count) train = subset(train, { start: 0, end: trainLimit });
  return ok({ train, validation: held, files: [...trainPaths, ...testPaths] });
}

/**
 * Loads CIFAR-10 from the official binary layout in `dir`, using whichever data_batch_N.bin files are
 * present (so a partial download of data_batch_1 alone still trains).
 */
export const loadCifar10 = (dir: string, opts: LoadCifarOptions): Promise<Result<CifarData, string>> => loadCifar(CIFAR10, CIFAR10_FORMAT, dir, opts);

/** Loads CIFAR-100 (train.bin, test.bin) with its fine or coarse labels. */
export const loadCifar100 = (dir: string, opts: LoadCifar100Options): Promise<Result<CifarData, string>> =>
  loadCifar(CIFAR100, cifar100Format(opts.labels), dir, opts);
