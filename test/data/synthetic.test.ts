import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImageSet } from '../../src/data/image-set.js';
import { syntheticCifar } from '../../src/data/synthetic.js';

function classMeans(set: ImageSet): Float64Array[] {
  const sums = Array.from({ length: 10 }, () => new Float64Array(3072));
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < set.count; i++) {
    const sum = sums[set.labels[i]];
    counts[set.labels[i]]++;
    for (let d = 0; d < 3072; d++) sum[d] += set.images[i * 3072 + d];
  }
  return sums.map((sum, k) => sum.map((v) => v / counts[k]));
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += (a[d] - b[d]) ** 2;
  return Math.sqrt(s);
}

describe('syntheticCifar', () => {
  it('is CIFAR-shaped and deterministic in the seed', () => {
    const a = syntheticCifar(7, { train: 50, validation: 20 });
    const b = syntheticCifar(7, { train: 50, validation: 20 });
    const c = syntheticCifar(8, { train: 50, validation: 20 });
    assert.equal(a.train.count, 50);
    assert.equal(a.train.images.length, 50 * 3072);
    assert.equal(a.validation.count, 20);
    assert.deepEqual(a.train.images, b.train.images);
    assert.deepEqual(a.train.labels, b.train.labels);
    assert.deepEqual(a.validation.images, b.validation.images);
    assert.notDeepEqual(a.train.images, c.train.images);
  });

  it('keeps the validation images when only the train count changes', () => {
    const small = syntheticCifar(3, { train: 10, validation: 15 });
    const large = syntheticCifar(3, { train: 40, validation: 15 });
    assert.deepEqual(small.validation.images, large.validation.images);
    assert.deepEqual(large.train.images.subarray(0, 10 * 3072), small.train.images);
  });

  it('has a class signal a classifier can pick up, well above chance but not noise-free', () => {
    const { train, validation } = syntheticCifar(1, { train: 1000, validation: 300 });
    assert.equal(new Set(train.labels).size, 10);
    const means = classMeans(train);
    let minBetween = Infinity;
    for (let a = 0; a < 10; a++) for (let b = a + 1; b < 10; b++) minBetween = Math.min(minBetween, distance(means[a], means[b]));
    assert.ok(minBetween > 100, `class means should differ, closest pair ${minBetween.toFixed(1)} apart`);

    // Nearest class mean on held-out images: chance is 10% (seed 1 gives ~21%); shifts and noise keep it far from perfect.
    let correct = 0;
    for (let i = 0; i < validation.count; i++) {
      const image = validation.images.subarray(i * 3072, (i + 1) * 3072);
      let best = 0;
      for (let k = 1; k < 10; k++) if (distance(image, means[k]) < distance(image, means[best])) best = k;
      if (best === validation.labels[i]) correct++;
    }
    const accuracy = correct / validation.count;
    assert.ok(accuracy > 0.15 && accuracy < 0.9, `nearest-mean accuracy ${accuracy}`);
  });
});
