import * as tf from '@tensorflow/tfjs-core';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { BatchSampler, channelStats, inputPipeline, type ImageSet, type InputPipeline, type InputShape } from '../data/index.js';
import { buildNetwork, networkSpecs, totalCost, type Network } from '../models/index.js';
import type { MetricsRow } from '../record/metrics-csv.js';
import { evaluateParts, type Evaluation } from './evaluate.js';
import { learningRate } from './schedule.js';
import { Sgd } from './sgd.js';
import { trainStepParts, type Batch } from './step.js';

export type NetStatus = 'training' | 'done' | 'diverged' | 'interrupted';

/** One network of the comparison and its running record. */
export interface Trainee {
  net: Network;
  sgd: Sgd;
  params: number;
  status: NetStatus;
  /** Training loss/errors since the last row. */
  window: { loss: number; wrong: number; images: number; seconds: number; steps: number };
  lastTrain?: { loss: number; error: number };
  lastTest?: Evaluation;
  best?: { error: number; step: number };
  /** Images per second over the whole run, this network's steps only. */
  totals: { images: number; seconds: number };
}

export interface LockstepInputs {
  config: Config;
  train: ImageSet;
  validation: ImageSet;
  log: Logger;
  /** Called with each row as soon as it exists (the CSV writer appends it). */
  onRows(rows: MetricsRow[]): void;
  /** Called after every step, for live progress. */
  onStep?(step: number, trainees: readonly Trainee[]): void;
  /** Checked before every step: true stops training cleanly after the current one. */
  shouldStop?(): boolean;
  /** Continue from a checkpoint: the sampler as it was after `step`, and the restored trainees. */
  resume?: { step: number; sampler: BatchSampler };
  /**
   * Called every `checkpoint.every` iterations, at the end, and when stopping early, after that step's rows;
   * the state is only valid during the call.
   */
  onCheckpoint?(state: LockstepState): void;
  /** Called at every row point with the step's batch (still alive), e.g. for diagnostics. */
  onRowPoint?(state: LockstepState, batch: Batch): void;
}

/** Everything that determines how training goes on from `step`. */
export interface LockstepState {
  step: number;
  sampler: BatchSampler;
  trainees: readonly Trainee[];
}

export interface LockstepResult {
  trainees: Trainee[];
  /** Iterations completed by the comparison. */
  steps: number;
  interrupted: boolean;
  wallSeconds: number;
}

/**
 * Every (variant, depth) network of the config, built from the same seed, so twins start from the same weights,
 * for the data set's input size and classes.
 */
export function buildTrainees(config: Config, input: InputShape): Trainee[] {
  return networkSpecs(config, input).map((spec) => {
    const net = buildNetwork(spec, config.seed);
    return {
      net,
      sgd: new Sgd(net.params.trainable(), { momentum: config.train.momentum, weightDecay: config.train.weightDecay }),
      params: totalCost(net.costs).params,
      status: 'training' as NetStatus,
      window: { loss: 0, wrong: 0, images: 0, seconds: 0, steps: 0 },
      totals: { images: 0, seconds: 0 },
    };
  });
}

/** The validation set as tensors, built once and shared by every network and evaluation. */
function validationBatches(config: Config, pipeline: InputPipeline, validation: ImageSet, stats: ReturnType<typeof channelStats>): Batch[] {
  const count = Math.min(validation.count, config.data.validationLimit ?? validation.count);
  const { height, width } = pipeline.input;
  const batches: Batch[] = [];
  for (let start = 0; start < count; start += config.eval.batchSize) {
    const end = Math.min(count, start + config.eval.batchSize);
    const b = pipeline.evalBatch(validation, start, end, stats);
    batches.push({ x: tf.tensor4d(b.x, [b.size, height, width, 3]), y: tf.tensor1d(b.y, 'int32') });
  }
  return batches;
}

/**
 * Lets signal handlers and timers run: TF.js computes synchronously, so nothing else runs until it returns. A
 * signal is read in the loop's poll phase; one setImmediate queued from inside that phase (where training starts,
 * after the data files are read) fires before the loop polls again, so the next step ran first and a Ctrl-C
 * waited two steps. The second immediate is queued from the check phase and fires only after a poll.
 */
const yieldToEventLoop = (): Promise<void> => new Promise((done) => setImmediate(() => setImmediate(done)));

/**
 * Runs a stepwise computation, letting the event loop turn at each of its pauses (after every micro-batch pass
 * and every evaluation batch, and so between networks). On the `cpu` backend one depth-8 step at batch 32 took
 * over 5 minutes here under load: pausing only between steps left a Ctrl-C unheard, and a second one unable to
 * quit, for a whole step of every network. Nothing is computed differently.
 */
async function runYielding<T>(parts: Generator<void, T>): Promise<T> {
  for (;;) {
    const next = parts.next();
    if (next.done) return next.value;
    await yieldToEventLoop();
  }
}

/**
 * Trains all networks step by step on the very same augmented batches, so their curves differ only by
 * architecture. Rows are handed out as they are made; a diverged network stops while the others go on.
 */
export async function trainLockstep(
  inputs: LockstepInputs,
  trainees: Trainee[] = buildTrainees(inputs.config, inputPipeline(inputs.config.data, inputs.train).input),
): Promise<LockstepResult> {
  const { config, train, log } = inputs;
  const started = performance.now();
  const pipeline = inputPipeline(config.data, train);
  const { height, width } = pipeline.input;
  const stats = channelStats(train);
  const evalSet = validationBatches(config, pipeline, inputs.validation, stats);
  const sampler = inputs.resume?.sampler ?? new BatchSampler(train.count, config.train.batchSize, config.seed);
  const { iterations } = config.train;
  const checkpointEvery = config.checkpoint.every;
  let step = inputs.resume?.step ?? 0;
  let checkpointed = step;
  let interrupted = false;
  const checkpoint = () => {
    inputs.onCheckpoint?.({ step, sampler, trainees });
    checkpointed = step;
  };

  try {
    while (step < iterations && trainees.some((t) => t.status === 'training')) {
      if (inputs.shouldStop?.()) {
        interrupted = true;
        break;
      }
      step++;
      const lr = learningRate(config.train, step);
      const sampled = sampler.next();
      const augmented = pipeline.trainBatch(train, sampled.indices, sampler.augmentRng, stats);
      const batch: Batch = {
        x: tf.tensor4d(augmented.x, [augmented.size, height, width, 3]),
        y: tf.tensor1d(augmented.y, 'int32'),
      };
      for (const t of trainees) {
        if (t.status !== 'training') continue;
        const t0 = performance.now();
        const result = await runYielding(trainStepParts(t.net, t.sgd, batch, lr, config.train.microBatch, step));
        const seconds = (performance.now() - t0) / 1000;
        await yieldToEventLoop();
        if (!Number.isFinite(result.loss)) {
          t.status = 'diverged';
          log.warn({ net: t.net.id, step, loss: result.loss }, `${t.net.id} diverged at step ${step} (loss ${result.loss}); the others go on`);
        }
        t.window.loss += Number.isFinite(result.loss) ? result.loss : 0;
        t.window.wrong += result.wrong;
        t.window.images += augmented.size;
        t.window.seconds += seconds;
        t.window.steps += 1;
        t.totals.images += augmented.size;
        t.totals.seconds += seconds;
      }

      const last = step === iterations;
      const isEval = step % config.eval.every === 0 || last;
      const isRow = isEval || step % config.log.every === 0;
      // A network that just diverged gets its last row now, whatever the logging grid.
      const due = trainees.filter((t) => t.window.steps > 0 && (isRow || t.status === 'diverged'));
      if (due.length > 0) {
        const wall = (performance.now() - started) / 1000;
        const rows: MetricsRow[] = [];
        for (const t of due) rows.push(await rowFor(t, { config, step, lr, epoch: sampled.epochsCompleted, wall, evalSet: isEval ? evalSet : undefined, last }));
        inputs.onRows(rows);
      }
      if (isRow) inputs.onRowPoint?.({ step, sampler, trainees }, batch);
      batch.x.dispose();
      batch.y.dispose();
      if (step % checkpointEvery === 0 || last) checkpoint();
      inputs.onStep?.(step, trainees);
      await yieldToEventLoop();
    }
    if (step !== checkpointed) checkpoint();
  } finally {
    for (const b of evalSet) {
      b.x.dispose();
      b.y.dispose();
    }
  }
  for (const t of trainees) if (t.status === 'training') t.status = interrupted ? 'interrupted' : 'done';
  return { trainees, steps: step, interrupted, wallSeconds: (performance.now() - started) / 1000 };
}

async function rowFor(
  t: Trainee,
  at: { config: Config; step: number; lr: number; epoch: number; wall: number; evalSet?: Batch[]; last: boolean },
): Promise<MetricsRow> {
  const w = t.window;
  const trainLoss = t.status === 'diverged' ? Number.NaN : w.loss / w.steps;
  t.lastTrain = { loss: trainLoss, error: w.wrong / w.images };
  let test: Evaluation | undefined;
  if (at.evalSet && t.status === 'training') {
    test = await runYielding(evaluateParts(t.net, at.evalSet));
    t.lastTest = test;
    if (!t.best || test.error < t.best.error) t.best = { error: test.error, step: at.step };
  }
  const row: MetricsRow = {
    seed: at.config.seed,
    variant: t.net.spec.variant,
    depth: t.net.spec.depth,
    step: at.step,
    epoch: at.epoch,
    lr: at.lr,
    train_loss: trainLoss,
    train_error: t.lastTrain.error,
    test_loss: test?.loss ?? null,
    test_error: test?.error ?? null,
    images_per_sec: w.seconds > 0 ? w.images / w.seconds : null,
    wall_seconds: at.wall,
    // Rows are written inside the loop, where a network is still training or has just diverged.
    status: t.status === 'diverged' ? 'diverged' : at.last ? 'done' : 'training',
  };
  t.window = { loss: 0, wrong: 0, images: 0, seconds: 0, steps: 0 };
  return row;
}
