import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { it } from 'node:test';
import { loadCifar10 } from '../../src/data/cifar.js';

const REAL = '/work/shared/data/cifar-10-batches-bin';
const present = existsSync(`${REAL}/data_batch_1.bin`) && existsSync(`${REAL}/test_batch.bin`);

it('loads the real CIFAR-10 copy', { skip: present ? false : `no real CIFAR-10 at ${REAL}` }, async () => {
  const result = await loadCifar10(REAL, { validation: 'test' });
  assert.ok(result.ok, result.ok ? '' : result.error);
  const { train, validation } = result.value;
  // Only data_batch_1 is expected in the shared copy; with all five this would be 50,000.
  const files = result.value.files.filter((f) => /data_batch_\d+\.bin$/.test(f)).length;
  assert.equal(train.count, files * 10_000);
  assert.equal(validation.count, 10_000);
  const perClass = new Array<number>(10).fill(0);
  for (const label of train.labels) perClass[label]++;
  const expected = train.count / 10;
  for (const [label, n] of perClass.entries()) {
    assert.ok(Math.abs(n - expected) < expected * 0.1, `class ${label}: ${n} images, expected about ${expected}`);
  }
});
