import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A distinctive byte for (global record, channel, row, column), so misplaced pixels cannot coincide. */
export function pixel(record: number, c: number, y: number, x: number): number {
  return (record * 37 + c * 80 + y * 7 + x * 3) & 0xff;
}

/**
 * Records in the official planar layout, written independently of the reader: label byte, then the
 * R plane, G plane and B plane, each 32 rows of 32 bytes. `first` numbers the records globally.
 */
export function cifarRecords(labels: number[], first = 0): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((label, r) => {
    const base = r * 3073;
    out[base] = label;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) out[base + 1 + c * 1024 + y * 32 + x] = pixel(first + r, c, y, x);
      }
    }
  });
  return out;
}

export async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'resnet-exp-data-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function writeFiles(dir: string, files: Record<string, Uint8Array>): Promise<void> {
  await Promise.all(Object.entries(files).map(([name, bytes]) => writeFile(join(dir, name), bytes)));
}

/**
 * CIFAR-100 records in the official layout, written independently of the reader: coarse label byte, fine label
 * byte, then the R, G and B planes (3074 bytes a record).
 */
export function cifar100Records(labels: readonly (readonly [coarse: number, fine: number])[], first = 0): Uint8Array {
  const out = new Uint8Array(labels.length * 3074);
  labels.forEach(([coarse, fine], r) => {
    const base = r * 3074;
    out[base] = coarse;
    out[base + 1] = fine;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) out[base + 2 + c * 1024 + y * 32 + x] = pixel(first + r, c, y, x);
      }
    }
  });
  return out;
}

export interface ImageSpec {
  readonly width: number;
  readonly height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  readonly channels?: 1 | 2 | 3 | 4;
  readonly format?: 'png' | 'jpeg';
  /** The pixel at (x, y): one value per channel. Default: a colour that encodes the position. */
  readonly pixel?: (x: number, y: number) => readonly number[];
}

/** Writes a PNG or JPEG with sharp (the library the reader decodes with), creating the folder. */
export async function writeImage(path: string, spec: ImageSpec): Promise<void> {
  const { width, height } = spec;
  const channels = spec.channels ?? 3;
  const at = spec.pixel ?? ((x: number, y: number) => [(x * 16) & 0xff, (y * 16) & 0xff, 128, 255].slice(0, channels));
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(at(x, y).slice(0, channels), (y * width + x) * channels);
  const { default: sharp } = await import('sharp');
  const image = sharp(raw, { raw: { width, height, channels } });
  await mkdir(dirname(path), { recursive: true });
  await (spec.format === 'jpeg' ? image.jpeg({ quality: 95 }) : image.png()).toFile(path);
}
