import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
