import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { Sharp, SharpOptions } from 'sharp';
import { err, ok, type Result } from '../result.js';
import { CHANNELS } from './image-set.js';

/**
 * PNG/JPEG decoding with sharp (libvips, shipped prebuilt in its npm packages). Loaded on first use, so
 * commands that never read an image folder do not pay for the native library.
 */
type SharpModule = ((input: Buffer | Uint8Array, options?: SharpOptions) => Sharp) & {
  concurrency(threads?: number): number;
  cache(options: boolean): unknown;
  versions: { sharp?: string; vips: string };
};

let loaded: SharpModule | undefined;

async function sharpModule(): Promise<SharpModule> {
  if (!loaded) {
    loaded = (await import('sharp')).default as unknown as SharpModule;
    // Many small images: one libvips thread per image and several images at once use the cores better, and
    // libvips' operation cache would only hold on to images decoded once.
    loaded.concurrency(1);
    loaded.cache(false);
  }
  return loaded;
}

/** Names the decoder in the cache key: another libvips may resize to other bytes. */
export async function decoderVersion(): Promise<string> {
  const s = await sharpModule();
  return `sharp ${s.versions.sharp ?? '?'} libvips ${s.versions.vips}`;
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();

/**
 * One image as size×size RGB bytes (HWC): the short side resized to `size` (lanczos3, sharp's default), the
 * long side centre-cropped to it. Grey, palette, 16-bit, CMYK and alpha images all end as 8-bit sRGB.
 * A truncated or corrupt file is an error (sharp's failOn 'warning').
 */
export async function decodeSquare(path: string, size: number): Promise<Result<Uint8Array, string>> {
  const sharp = await sharpModule();
  let input: Buffer;
  try {
    input = await readFile(path);
  } catch (e) {
    return err(`cannot read image ${path} (${(e as NodeJS.ErrnoException).code ?? firstLine(e)})`);
  }
  try {
    let source = sharp(input, { failOn: 'warning' });
    if ((await source.metadata()).hasAlpha) {
      // libvips resizes premultiplied by alpha: faint pixels would lose their colour. Drop alpha first, as
      // PIL's convert('RGB') does (one pass keeps JPEG's shrink-on-load, so only alpha images take two).
      const flat = await source.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      source = sharp(flat.data, { raw: { width: flat.info.width, height: flat.info.height, channels: flat.info.channels } });
    }
    const { data, info } = await source
      .resize(size, size, { fit: 'cover', position: 'centre' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height !== size || info.channels !== CHANNELS || data.length !== size * size * CHANNELS) {
      return err(`image ${path} decoded to ${info.width}x${info.height}x${info.channels}, not ${size}x${size}x${CHANNELS}`);
    }
    return ok(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } catch (e) {
    return err(`cannot decode image ${path}: ${firstLine(e)}`);
  }
}

/**
 * Decodes every file into one NHWC array, in list order whatever order they finish in. Stops at the first
 * failure; the error names the file.
 */
export async function decodeAll(paths: readonly string[], size: number, onDone?: (done: number) => void): Promise<Result<Uint8Array, string>> {
  const bytes = size * size * CHANNELS;
  const images = new Uint8Array(paths.length * bytes);
  let next = 0;
  let done = 0;
  const failures: { index: number; error: string }[] = [];
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < paths.length) {
      const i = next++;
      const decoded = await decodeSquare(paths[i], size);
      if (!decoded.ok) {
        failures.push({ index: i, error: decoded.error });
        return;
      }
      images.set(decoded.value, i * bytes);
      onDone?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), paths.length) }, worker));
  // Files are started in order and every started one finishes, so the earliest failure is the folder's first
  // bad file: the same one on every run, however the workers interleave.
  failures.sort((a, b) => a.index - b.index);
  return failures.length > 0 ? err(failures[0].error) : ok(images);
}
