import { err, ok, type Result } from '../result.js';
import { BYTES_PER_IMAGE, NUM_CLASSES, PIXELS_PER_IMAGE } from './image-set.js';

/** One record of the official binary release: a label byte, then the planar R, G and B 32×32 planes. */
export const CIFAR_RECORD_BYTES = 1 + BYTES_PER_IMAGE;

export interface BadLabel {
  /** Record index within the file being decoded. */
  readonly record: number;
  readonly label: number;
}

/**
 * Decodes every record of one file into `images`/`labels` starting at image `at`, converting the planar
 * layout to NHWC in the same pass that reads it. The caller has checked the byte length is a multiple of
 * CIFAR_RECORD_BYTES and sized the destination arrays.
 */
export function decodeCifarRecords(
  bytes: Uint8Array,
  images: Uint8Array,
  labels: Uint8Array,
  at: number,
): Result<number, BadLabel> {
  const records = bytes.length / CIFAR_RECORD_BYTES;
  for (let r = 0; r < records; r++) {
    const src = r * CIFAR_RECORD_BYTES;
    const label = bytes[src];
    if (label >= NUM_CLASSES) return err({ record: r, label });
    labels[at + r] = label;
    const red = src + 1;
    const green = red + PIXELS_PER_IMAGE;
    const blue = green + PIXELS_PER_IMAGE;
    let dst = (at + r) * BYTES_PER_IMAGE;
    for (let p = 0; p < PIXELS_PER_IMAGE; p++) {
      images[dst++] = bytes[red + p];
      images[dst++] = bytes[green + p];
      images[dst++] = bytes[blue + p];
    }
  }
  return ok(records);
}

