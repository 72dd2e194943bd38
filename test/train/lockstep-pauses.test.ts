import assert from 'node:assert/strict';
import { readFile } from 'node:fs';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { pino } from 'pino';
import { configSchema } from '../../src/config/index.js';
import { CIFAR10_GEOMETRY, syntheticCifar } from '../../src/data/index.js';
import { buildTrainees, trainLockstep } from '../../src/train/lockstep.js';

before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

/**
 * A signal handler is a callback queued for the event loop, like an immediate: it runs only when the training
 * loop lets the loop turn. On the `cpu` backend one step of the lockstep took minutes per network, so a Ctrl-C
 * waited for every network's step (and evaluation) before anyone heard it.
 */
describe('the lockstep lets signals in within one pass', () => {
  const config = configSchema.parse({
    data: { source: 'synthetic', synthetic: { train: 16, validation: 16 } },
    model: { depth: 8, width: 4, variants: ['plain', 'residual'] },
    train: { batchSize: 8, microBatch: 4, iterations: 3, milestones: [100] },
    eval: { every: 1, batchSize: 8 },
    log: { every: 1 },
    checkpoint: { every: 100 },
  });
  const data = syntheticCifar(1, config.data.synthetic);

  it('a handler queued during a pass runs right after it (training and evaluating); a stop still ends the step whole', async () => {
    const events: string[] = [];
    let stop = false;
    const queued = new Set<string>();
    const trainees = buildTrainees(config, CIFAR10_GEOMETRY);
    for (const t of trainees) {
      const forward = t.net.forward.bind(t.net);
      t.net.forward = (x, mode) => {
        const what = `${t.net.id} ${mode}`;
        events.push(what);
        // The "signal" arrives during plain-8's first training pass, and again during its first evaluation pass.
        if (t.net.id === 'plain-8' && !queued.has(mode)) {
          queued.add(mode);
          setImmediate(() => {
            events.push(`handler (${mode})`);
            stop = true;
          });
        }
        return forward(x, mode);
      };
    }
    const checkpoints: number[] = [];
    const result = await trainLockstep(
      {
        config,
        train: data.train,
        validation: data.validation,
        log: pino({ level: 'silent' }),
        onRows: () => {},
        shouldStop: () => stop,
        onCheckpoint: (state) => checkpoints.push(state.step),
      },
      trainees,
    );
    assert.deepEqual(events, [
      'plain-8 train',
      'handler (train)', // before: after the four passes of step 1 and both networks' evaluations
      'plain-8 train',
      'residual-8 train',
      'residual-8 train',
      'plain-8 eval',
      'handler (eval)', // before: after both networks' evaluations
      'plain-8 eval',
      'residual-8 eval',
      'residual-8 eval',
    ]);
    // Heard mid-step, the stop still waits for the step's end: every network at step 1, one checkpoint there.
    assert.deepEqual([result.steps, result.interrupted, checkpoints], [1, true, [1]]);
    for (const t of result.trainees) {
      t.net.params.dispose();
      t.sgd.dispose();
    }
  });

  it('a real signal raised during the first pass is handled right after it, even when training starts in the poll phase', async () => {
    // Training starts in a callback of the poll phase (after reading files). One setImmediate queued there fires
    // before the loop polls again: the old code ran a whole second step before hearing a Ctrl-C sent in the first.
    const events: string[] = [];
    const onSignal = () => events.push('signal');
    process.on('SIGUSR2', onSignal);
    try {
      const trainees = buildTrainees({ ...config, model: { ...config.model, variants: ['plain'] } }, CIFAR10_GEOMETRY);
      const forward = trainees[0].net.forward.bind(trainees[0].net);
      trainees[0].net.forward = (x, mode) => {
        events.push(mode);
        // Linux hands a signal a process sends itself to the sending thread before kill() returns: it is pending.
        if (events.length === 1) process.kill(process.pid, 'SIGUSR2');
        return forward(x, mode);
      };
      const result = await new Promise<Awaited<ReturnType<typeof trainLockstep>>>((resolve, reject) =>
        readFile(import.meta.filename ?? new URL(import.meta.url).pathname, () => {
          trainLockstep({ config: { ...config, train: { ...config.train, iterations: 1 } }, train: data.train, validation: data.validation, log: pino({ level: 'silent' }), onRows: () => {} }, trainees).then(resolve, reject);
        }),
      );
      assert.deepEqual(events, ['train', 'signal', 'train', 'eval', 'eval']);
      for (const t of result.trainees) {
        t.net.params.dispose();
        t.sgd.dispose();
      }
    } finally {
      process.off('SIGUSR2', onSignal);
    }
  });
});
