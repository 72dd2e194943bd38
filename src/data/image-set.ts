/** Geometry shared by every CIFAR-shaped image in the project. */
export const IMAGE_SIZE = 32;
export const CHANNELS = 3;
export const PIXELS_PER_IMAGE = IMAGE_SIZE * IMAGE_SIZE;
export const BYTES_PER_IMAGE = PIXELS_PER_IMAGE * CHANNELS;
export const NUM_CLASSES = 10;

/**
 * A set of labelled 32×32 RGB images. Pixels are stored NHWC-interleaved (R,G,B per pixel, rows top to
 * bottom) because that is what TF.js convolutions consume, so batches can be copied without re-ordering.
 * Treat the arrays as read-only: subsets taken by range share memory with their parent.
 */
export interface ImageSet {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

/** Half-open range [start, end) of image indices. */
export interface IndexRange {
  readonly start: number;
  readonly end: number;
}

export function makeImageSet(images: Uint8Array, labels: Uint8Array): ImageSet {
  if (images.length !== labels.length * BYTES_PER_IMAGE) {
    throw new RangeError(
      `image bytes (${images.length}) do not match ${labels.length} labels × ${BYTES_PER_IMAGE} bytes`,
    );
  }
  return { images, labels, count: labels.length };
}

function isRange(selection: ArrayLike<number> | IndexRange): selection is IndexRange {
  return 'start' in selection && 'end' in selection;
}

/**
 * The images picked by `selection`. A range is a zero-copy view (splits of a 50k set stay cheap);
 * an index list copies, since the picked images are not contiguous.
 */
export function subset(set: ImageSet, selection: ArrayLike<number> | IndexRange): ImageSet {
  if (isRange(selection)) {
    const { start, end } = selection;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > set.count) {
      throw new RangeError(`range [${start}, ${end}) is outside 0..${set.count}`);
    }
    return makeImageSet(
      set.images.subarray(start * BYTES_PER_IMAGE, end * BYTES_PER_IMAGE),
      set.labels.subarray(start, end),
    );
  }
  const n = selection.length;
  const images = new Uint8Array(n * BYTES_PER_IMAGE);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const src = selection[i];
    if (!Number.isInteger(src) || src < 0 || src >= set.count) {
      throw new RangeError(`index ${src} is outside 0..${set.count - 1}`);
    }
    images.set(set.images.subarray(src * BYTES_PER_IMAGE, (src + 1) * BYTES_PER_IMAGE), i * BYTES_PER_IMAGE);
    labels[i] = set.labels[src];
  }
  return makeImageSet(images, labels);
}
