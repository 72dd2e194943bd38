import { CHANNELS, type ImageSet } from './image-set.js';

export type Rgb = readonly [number, number, number];

/**
 * Per-channel statistics on the 0-1 scale (pixel / 255), the convention of torchvision's Normalize, so
 * values compare directly with the usual CIFAR-10 figures (mean ≈ 0.491, 0.482, 0.447). `std` is the
 * population standard deviation (divide by N), over every pixel of every image.
 */
export interface ChannelStats {
  readonly mean: Rgb;
  readonly std: Rgb;
}

export function channelStats(set: ImageSet): ChannelStats {
  // Integer histograms make the sums exact and the pass cheap, whatever the set size.
  const histogram = [new Float64Array(256), new Float64Array(256), new Float64Array(256)];
  const { images } = set;
  for (let i = 0; i < images.length; i += CHANNELS) {
    histogram[0][images[i]]++;
    histogram[1][images[i + 1]]++;
    histogram[2][images[i + 2]]++;
  }
  const perChannel = histogram.map((h) => {
    let n = 0;
    let sum = 0;
    for (let v = 0; v < 256; v++) {
      n += h[v];
      sum += h[v] * v;
    }
    const mean = n === 0 ? 0 : sum / n;
    let squares = 0;
    for (let v = 0; v < 256; v++) squares += h[v] * (v - mean) ** 2;
    return { mean: mean / 255, std: n === 0 ? 0 : Math.sqrt(squares / n) / 255 };
  });
  return {
    mean: [perChannel[0].mean, perChannel[1].mean, perChannel[2].mean],
    std: [perChannel[0].std, perChannel[1].std, perChannel[2].std],
  };
}

/**
 * Lookup table from raw byte to normalised value, laid out [channel * 256 + byte]: normalising a batch
 * becomes one table read per pixel. A zero std (a constant channel) is treated as 1 so it stays finite.
 */
export function normalizationTable(stats: ChannelStats): Float32Array {
  const table = new Float32Array(CHANNELS * 256);
  for (let c = 0; c < CHANNELS; c++) {
    const std = stats.std[c] > 0 ? stats.std[c] : 1;
    for (let v = 0; v < 256; v++) table[c * 256 + v] = (v / 255 - stats.mean[c]) / std;
  }
  return table;
}
