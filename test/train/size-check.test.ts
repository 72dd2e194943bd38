import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { configSchema, type ConfigInput } from '../../src/config/index.js';
import { buildNetwork } from '../../src/models/index.js';
import { Sgd } from '../../src/train/sgd.js';
import { estimateMemory, judgeSizes } from '../../src/train/size-check.js';
import { trainStep } from '../../src/train/step.js';
import { evaluate } from '../../src/train/evaluate.js';

const GiB = 2 ** 30;
const config = (input: ConfigInput) => configSchema.parse(input);
const cifar = { trainImages: 50_000, validationImages: 10_000 };

before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

describe('sizes the loaded data and the machine allow', () => {
  it('a batch larger than the training images is an error; an epoch under two batches a warning', () => {
    // The schema cannot know how many images a data folder holds: 10 images and batch 16 trained silently.
    assert.deepEqual(judgeSizes(config({ train: { batchSize: 16 } }), { trainImages: 10, validationImages: 5 }, 24 * GiB).errors, [
      'train.batchSize 16 is more than the 10 training images: a batch would hold an image twice',
    ]);
    const odd = judgeSizes(config({ train: { batchSize: 16 } }), { trainImages: 24, validationImages: 5 }, 24 * GiB);
    assert.deepEqual([odd.errors, odd.warnings], [[], ['an epoch of 24 training images is less than two batches of 16: consecutive batches share most of their images']]);
    const fine = judgeSizes(config({ train: { batchSize: 16 } }), { trainImages: 32, validationImages: 5 }, 24 * GiB);
    assert.deepEqual([fine.errors, fine.warnings], [[], []]);
  });

  it('limits above what the data holds are warnings: everything is used', () => {
    const c = config({ data: { trainLimit: 40_000, validationLimit: 8_000 }, diagnostics: { every: 100, batch: 9_000 } });
    assert.deepEqual(judgeSizes(c, { trainImages: 30_000, validationImages: 5_000 }, 24 * GiB).warnings, [
      'data.trainLimit 40000 is more than the 30000 training images: all 30000 are used',
      'data.validationLimit 8000 is more than the 5000 validation images: all 5000 are used',
      'diagnostics.batch 9000 is more than the 5000 validation images: all 5000 are used',
    ]);
  });

  it('a run whose tensors cannot fit in the machine is refused, naming the keys that shrink it', () => {
    assert.deepEqual(judgeSizes(config({}), cifar, 24 * GiB).errors, [], 'the paper\'s ResNet-20 pair');
    assert.deepEqual(judgeSizes(config({ model: { depths: [20, 32, 44, 56, 110] } }), cifar, 24 * GiB).errors, []);
    // ResNet-1202: evaluating 500 images at once holds ~79 GB of maps; 100 at a time, and micro-batches of 64, fit.
    const [refusal] = judgeSizes(config({ model: { depth: 1202 } }), cifar, 24 * GiB).errors;
    assert.match(refusal, /^this run needs about \d+\.\d GiB for its tensors, more than this machine's 24\.0 GiB: lower train\.microBatch .*eval\.batchSize/);
    assert.deepEqual(judgeSizes(config({ model: { depth: 1202 }, eval: { batchSize: 100 }, train: { microBatch: 64 } }), cifar, 24 * GiB).errors, []);
  });

  it('the estimate is the low end of what TF.js holds at its peak, training and evaluating', async () => {
    for (const [variant, depth, width, images] of [['residual', 14, 4, 4], ['plain', 8, 4, 8]] as const) {
      const net = buildNetwork({ variant, depth, width, shortcut: 'A' }, 1);
      const sgd = new Sgd(net.params.trainable(), { momentum: 0.9, weightDecay: 1e-4 });
      const batch = { x: tf.randomNormal([images, 32, 32, 3]) as tf.Tensor4D, y: tf.tensor1d(Array.from({ length: images }, (_, i) => i % 10), 'int32') };
      trainStep(net, sgd, batch, 0.1); // momentum buffers exist from the first step on
      const held = tf.memory().numBytes;
      const training = await tf.profile(() => void trainStep(net, sgd, batch, 0.1));
      const evaluating = await tf.profile(() => void evaluate(net, [batch]));
      const measured = held + Math.max(training.peakBytes, evaluating.peakBytes);
      const c = config({ model: { variants: [variant], depth, width }, train: { batchSize: images }, eval: { batchSize: images } });
      const estimate = estimateMemory(c, { trainImages: 0, validationImages: images });
      assert.ok(estimate <= measured && measured <= 1.5 * estimate, `${variant}-${depth} width ${width}: estimate ${estimate}, measured ${measured}`);
      net.params.dispose();
      sgd.dispose();
      tf.dispose([batch.x, batch.y]);
    }
  });
});
