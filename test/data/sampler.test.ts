import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchSampler } from '../../src/data/sampler.js';

function take(sampler: BatchSampler, batches: number): number[][] {
  return Array.from({ length: batches }, () => [...sampler.next().indices]);
}

describe('BatchSampler', () => {
  it('every epoch is a permutation, and batches stay full across epoch boundaries', () => {
    const sampler = new BatchSampler(10, 3, 42);
    const stream: number[] = [];
    const epochs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const batch = sampler.next();
      assert.equal(batch.indices.length, 3);
      assert.equal(batch.step, i + 1);
      assert.equal(batch.epochsCompleted, (3 * (i + 1)) / 10);
      epochs.push(batch.epoch);
      stream.push(...batch.indices);
    }
    for (let e = 0; e < 6; e++) {
      const epoch = stream.slice(e * 10, e * 10 + 10);
      assert.deepEqual([...epoch].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], `epoch ${e}`);
    }
    assert.notDeepEqual(stream.slice(0, 10), stream.slice(10, 20), 'each epoch is reshuffled');
    // Batch 4 holds indices 9..11: it starts in epoch 0 and borrows two from epoch 1.
    assert.deepEqual(epochs.slice(0, 5), [0, 0, 0, 0, 1]);
  });

  it('the same seed gives the same sequence, another seed a different one', () => {
    assert.deepEqual(take(new BatchSampler(50, 8, 1), 20), take(new BatchSampler(50, 8, 1), 20));
    assert.notDeepEqual(take(new BatchSampler(50, 8, 1), 20), take(new BatchSampler(50, 8, 2), 20));
  });

  it('a batch larger than the set spans several epochs', () => {
    const batch = new BatchSampler(4, 10, 3).next();
    assert.equal(batch.indices.length, 10);
    assert.deepEqual([...batch.indices.slice(0, 4)].sort(), [0, 1, 2, 3]);
    assert.equal(batch.epochsCompleted, 2.5);
  });

  it('a JSON round-trip of the state continues the identical batches and augmentation stream', () => {
    for (const consumed of [0, 3, 7, 10]) {
      const original = new BatchSampler(23, 5, 99);
      take(original, consumed);
      original.augmentRng.next();
      const state = JSON.parse(JSON.stringify(original.getState())) as unknown;
      const restored = BatchSampler.fromState(state);
      assert.ok(restored.ok, restored.ok ? '' : restored.error);
      const a = Array.from({ length: 15 }, () => original.next());
      const b = Array.from({ length: 15 }, () => restored.value.next());
      assert.deepEqual(b, a, `after ${consumed} batches`);
      assert.deepEqual(
        Array.from({ length: 5 }, () => restored.value.augmentRng.next()),
        Array.from({ length: 5 }, () => original.augmentRng.next()),
      );
    }
  });

  it('the augmentation stream differs from the shuffle stream', () => {
    const sampler = new BatchSampler(10, 2, 5);
    const state = sampler.getState();
    assert.notDeepEqual(state.augmentRng, state.shuffleRng);
  });

  it('rejects invalid construction and corrupt states', () => {
    assert.throws(() => new BatchSampler(0, 4, 1), RangeError);
    assert.throws(() => new BatchSampler(4, 1.5, 1), RangeError);
    const state = new BatchSampler(10, 2, 5).getState();
    assert.ok(!BatchSampler.fromState({ ...state, position: 11 }).ok);
    assert.ok(!BatchSampler.fromState({ ...state, shuffleRng: [1, 2] }).ok);
    const bad = BatchSampler.fromState('nonsense');
    assert.ok(!bad.ok && bad.error.startsWith('invalid sampler state'));
  });
});
