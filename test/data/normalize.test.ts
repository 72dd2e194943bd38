import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CIFAR10_GEOMETRY, makeImageSet } from '../../src/data/image-set.js';
import { channelStats, normalizationTable } from '../../src/data/normalize.js';

/** Element by element within `tolerance`; a missing, extra or non-finite value fails (an empty result too). */
function close(actual: ArrayLike<number>, expected: readonly number[], tolerance = 1e-9): void {
  assert.ok(expected.length > 0, 'nothing to compare');
  assert.equal(actual.length, expected.length, `${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

describe('close (the comparison these tests rely on)', () => {
  it('fails on an empty or short result, passes on a match', () => {
    assert.throws(() => close([], [0.5]), /0 values, expected 1/);
    assert.throws(() => close([0.5], [0.5, 0.2]), /1 values, expected 2/);
    assert.throws(() => close([0.5, Number.NaN], [0.5, 0.2]), /\[1\] NaN vs 0.2/);
    close([0.5, 0.2], [0.5, 0.2]);
  });
});

describe('channelStats', () => {
  it('matches a hand-computed case on the 0-1 scale with population std', () => {
    // Image 0: R=0, G=51, B=0 on the first 512 pixels and 102 on the rest. Image 1: R=255, G=51, B=102.
    const images = new Uint8Array(2 * 3072);
    for (let p = 0; p < 1024; p++) {
      images.set([0, 51, p < 512 ? 0 : 102], p * 3);
      images.set([255, 51, 102], 3072 + p * 3);
    }
    const stats = channelStats(makeImageSet(images, new Uint8Array([0, 1]), CIFAR10_GEOMETRY));
    // R: half 0, half 1 → mean 0.5, std 0.5. G: constant 0.2 → std 0.
    // B: 512 of 2048 at 0, the rest at 0.4 → mean 0.3, variance (512·0.09 + 1536·0.01)/2048 = 0.03.
    close(stats.mean, [0.5, 0.2, 0.3]);
    close(stats.std, [0.5, 0, Math.sqrt(0.03)]);
  });

  it('normalisation table maps bytes to (v/255 - mean) / std, a zero std treated as 1', () => {
    const table = normalizationTable({ mean: [0.5, 0.2, 0.3], std: [0.5, 0, 0.1] });
    close([table[0], table[255], table[256 + 51], table[512 + 102]], [-1, 1, 0, 1], 1e-6);
  });
});
