import { err, ok, type Result } from '../result.js';
import { CHANNELS } from './image-set.js';

/** Both CIFAR releases store 32×32 images as three planes: all R bytes, then all G, then all B. */
export const CIFAR_SIZE = 32;
const PLANE = CIFAR_SIZE * CIFAR_SIZE;
const IMAGE_BYTES = PLANE * CHANNELS;

/**
 * A binary release's record: label bytes, then the image planes. CIFAR-10 has one label byte (0-9);
 * CIFAR-100 two, the coarse (0-19) then the fine (0-99) one.
 */
export interface RecordFormat {
  /** Per label byte, in file order: what it is called in messages and how many classes it ranges over. */
  readonly labels: readonly { readonly name: string; readonly classes: number }[];
  /** Which label byte becomes the image's label. */
  readonly use: number;
}

export const CIFAR10_FORMAT: RecordFormat = { labels: [{ name: 'label', classes: 10 }], use: 0 };

export const cifar100Format = (labels: 'fine' | 'coarse'): RecordFormat => ({
  labels: [
    { name: 'coarse label', classes: 20 },
    { name: 'fine label', classes: 100 },
  ],
  use: labels === 'coarse' ? 0 : 1,
});

export const recordBytes = (format: RecordFormat): number => format.labels.length + IMAGE_BYTES;

/** One record of CIFAR-10's binary release: a label byte, then the planar R, G and B 32×32 planes. */
export const CIFAR_RECORD_BYTES = recordBytes(CIFAR10_FORMAT);

export interface BadLabel {
  /** Record index within the file being decoded. */
  readonly record: number;
  /** The label byte's name, e.g. `fine label`. */
  readonly name: string;
  readonly label: number;
  readonly classes: number;
}

/**
 * Decodes every record of one file into `images`/`labels` starting at image `at`, converting the planar
 * layout to NHWC in the same pass that reads it. Every label byte is checked, used or not: one out of range
 * means a corrupt file. The caller has checked the byte length is a multiple of the record size and sized
 * the destination arrays.
 */
export function decodeCifarRecords(
  bytes: Uint8Array,
  format: RecordFormat,
  images: Uint8Array,
  labels: Uint8Array,
  at: number,
): Result<number, BadLabel> {
  const size = recordBytes(format);
  const labelBytes = format.labels.length;
  const records = bytes.length / size;
  for (let r = 0; r < records; r++) {
    const src = r * size;
    for (let k = 0; k < labelBytes; k++) {
      const { name, classes } = format.labels[k];
      const label = bytes[src + k];
      if (label >= classes) return err({ record: r, name, label, classes });
    }
    labels[at + r] = bytes[src + format.use];
    const red = src + labelBytes;
    const green = red + PLANE;
    const blue = green + PLANE;
    let dst = (at + r) * IMAGE_BYTES;
    for (let p = 0; p < PLANE; p++) {
      images[dst++] = bytes[red + p];
      images[dst++] = bytes[green + p];
      images[dst++] = bytes[blue + p];
    }
  }
  return ok(records);
}
