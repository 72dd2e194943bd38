/** Every image in the project is RGB; height, width and the number of classes belong to the set. */
export const CHANNELS = 3;

/** The shape of every image of a set, and the number of classes its labels range over (0..classes-1). */
export interface Geometry {
  readonly height: number;
  readonly width: number;
  readonly classes: number;
}

/** CIFAR-10 (and the synthetic stand-in): 32×32, ten classes. */
export const CIFAR10_GEOMETRY: Geometry = { height: 32, width: 32, classes: 10 };

/** One byte per label up to 256 classes; image folders (ImageNet subsets) may have more. */
export type Labels = Uint8Array | Uint16Array;

/**
 * A set of labelled RGB images of one size. Pixels are stored NHWC-interleaved (R,G,B per pixel, rows top to
 * bottom) because that is what TF.js convolutions consume, so batches can be copied without re-ordering.
 * Treat the arrays as read-only: subsets taken by range share memory with their parent.
 */
export interface ImageSet extends Geometry {
  readonly images: Uint8Array;
  readonly labels: Labels;
  readonly count: number;
}

/** Half-open range [start, end) of image indices. */
export interface IndexRange {
  readonly start: number;
  readonly end: number;
}

/** Bytes of one image of `g`. */
export const imageBytes = (g: Pick<Geometry, 'height' | 'width'>): number => g.height * g.width * CHANNELS;

const geometryOf = (g: Geometry): Geometry => ({ height: g.height, width: g.width, classes: g.classes });

export function makeImageSet(images: Uint8Array, labels: Labels, geometry: Geometry): ImageSet {
  const { height, width, classes } = geometry;
  for (const [name, n] of Object.entries({ height, width, classes })) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`image ${name} must be a positive integer, got ${n}`);
  }
  const bytes = imageBytes(geometry);
  if (images.length !== labels.length * bytes) {
    throw new RangeError(`image bytes (${images.length}) do not match ${labels.length} labels × ${bytes} bytes`);
  }
  return { images, labels, count: labels.length, height, width, classes };
}

function isRange(selection: ArrayLike<number> | IndexRange): selection is IndexRange {
  return 'start' in selection && 'end' in selection;
}

/**
 * The images picked by `selection`. A range is a zero-copy view (splits of a 50k set stay cheap);
 * an index list copies, since the picked images are not contiguous.
 */
export function subset(set: ImageSet, selection: ArrayLike<number> | IndexRange): ImageSet {
  const bytes = imageBytes(set);
  if (isRange(selection)) {
    const { start, end } = selection;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > set.count) {
      throw new RangeError(`range [${start}, ${end}) is outside 0..${set.count}`);
    }
    return makeImageSet(set.images.subarray(start * bytes, end * bytes), set.labels.subarray(start, end), geometryOf(set));
  }
  const n = selection.length;
  const images = new Uint8Array(n * bytes);
  const labels = set.labels instanceof Uint16Array ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const src = selection[i];
    if (!Number.isInteger(src) || src < 0 || src >= set.count) {
      throw new RangeError(`index ${src} is outside 0..${set.count - 1}`);
    }
    images.set(set.images.subarray(src * bytes, (src + 1) * bytes), i * bytes);
    labels[i] = set.labels[src];
  }
  return makeImageSet(images, labels, geometryOf(set));
}
