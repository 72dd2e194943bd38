import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CIFAR10_GEOMETRY, makeImageSet, subset } from '../../src/data/image-set.js';

function numbered(count: number): ReturnType<typeof makeImageSet> {
  const images = new Uint8Array(count * 3072);
  for (let i = 0; i < count; i++) images.fill(i + 1, i * 3072, (i + 1) * 3072);
  return makeImageSet(images, Uint8Array.from({ length: count }, (_, i) => i % 10), CIFAR10_GEOMETRY);
}

describe('subset', () => {
  it('a range is a view over the same memory', () => {
    const set = numbered(5);
    const part = subset(set, { start: 1, end: 3 });
    assert.equal(part.count, 2);
    assert.deepEqual([...part.labels], [1, 2]);
    assert.equal(part.images[0], 2);
    assert.equal(part.images[3072], 3);
    assert.equal(part.images.buffer, set.images.buffer);
  });

  it('an index list copies the picked images in the given order', () => {
    const set = numbered(5);
    const part = subset(set, [4, 0, 4]);
    assert.deepEqual([...part.labels], [4, 0, 4]);
    assert.deepEqual([part.images[0], part.images[3072], part.images[2 * 3072 + 3071]], [5, 1, 5]);
  });

  it('rejects selections outside the set', () => {
    const set = numbered(3);
    assert.throws(() => subset(set, { start: 2, end: 4 }), RangeError);
    assert.throws(() => subset(set, [3]), RangeError);
    assert.throws(() => makeImageSet(new Uint8Array(10), new Uint8Array(1), CIFAR10_GEOMETRY), RangeError);
  });
});
