import * as tf from '@tensorflow/tfjs-core';
import { buildNetwork, totalCost, type Network, type NetworkSpec } from '../models/index.js';
import { Sgd, type SgdOptions } from '../train/sgd.js';
import { trainStep, type Batch } from '../train/step.js';

/** The recipe `run` uses (He et al. 2015): momentum 0.9, weight decay 1e-4 on kernels. The rate doesn't affect speed. */
const SGD = { momentum: 0.9, weightDecay: 1e-4 };
const LR = 0.01;

/** A network on the current backend with its optimiser, ready to time. */
export interface BenchNet {
  net: Network;
  sgd: Sgd;
  macsPerImage: number;
  params: number;
  dispose(): void;
}

export function benchNet(spec: NetworkSpec, seed: number, sgdOptions: SgdOptions = SGD): BenchNet {
  const net = buildNetwork(spec, seed);
  const sgd = new Sgd(net.params.trainable(), sgdOptions);
  const cost = totalCost(net.costs);
  return {
    net,
    sgd,
    macsPerImage: cost.macs,
    params: cost.params,
    dispose() {
      sgd.dispose();
      net.params.dispose();
    },
  };
}

/** Random but fixed images and labels (seeded): speed doesn't depend on the values. */
export function randomBatch(size: number, seed: number): Batch {
  return {
    x: tf.randomNormal([size, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D,
    y: tf.randomUniform([size], 0, 10, 'int32', seed + 1) as tf.Tensor1D,
  };
}

/**
 * Bytes of tensors one training step holds at its peak, per image, from one profiled step at a small batch
 * (activations kept for the backward pass grow linearly with the batch; parameters don't count).
 */
export async function peakBytesPerImage(b: BenchNet, probeBatch: number, seed: number): Promise<number> {
  const batch = randomBatch(probeBatch, seed);
  try {
    const before = tf.memory().numBytes;
    const info = await tf.profile(() => {
      trainStep(b.net, b.sgd, batch, LR);
    });
    return Math.max(0, info.peakBytes - before) / probeBatch;
  } finally {
    batch.x.dispose();
    batch.y.dispose();
  }
}

/** User + system CPU time of a process.cpuUsage() difference, in milliseconds. */
export const cpuMillis = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

export interface StepTimes {
  /** Wall milliseconds of each timed step. */
  stepMs: number[];
  /**
   * CPU milliseconds of each timed step, all of this process's threads. On a machine other processes keep busy,
   * wall time includes waiting for a core and CPU time does not: at 1 thread it is the uncontended step time.
   */
  cpuMs: number[];
  /** Loss of the last step: non-finite means the update was skipped (trainStep's divergence guard). */
  lastLoss: number;
}

/**
 * `warmup` untimed then `steps` timed calls of the training step `run` uses (forward and backward in training
 * mode, SGD update; trainStep reads the loss back, so each step has finished when it returns).
 */
export function timeSteps(b: BenchNet, o: { batch: number; microBatch: number; steps: number; warmup: number; seed: number }): StepTimes {
  const batch = randomBatch(o.batch, o.seed);
  const micro = o.microBatch < o.batch ? o.microBatch : undefined;
  try {
    let lastLoss = NaN;
    for (let i = 0; i < o.warmup; i++) lastLoss = trainStep(b.net, b.sgd, batch, LR, micro).loss;
    const stepMs: number[] = [];
    const cpuMs: number[] = [];
    for (let i = 0; i < o.steps; i++) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      lastLoss = trainStep(b.net, b.sgd, batch, LR, micro).loss;
      stepMs.push(performance.now() - start);
      cpuMs.push(cpuMillis(process.cpuUsage(cpu)));
    }
    return { stepMs, cpuMs, lastLoss };
  } finally {
    batch.x.dispose();
    batch.y.dispose();
  }
}
