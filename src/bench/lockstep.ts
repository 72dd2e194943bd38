import { configDepths, type Config } from '../config/schema.js';
import { networkId, type NetworkSpec } from '../models/index.js';
import type { SgdOptions } from '../train/sgd.js';
import { trainStep } from '../train/step.js';
import { benchNet, cpuMillis, randomBatch, type BenchNet } from './measure.js';
import { median, type LockstepRow } from './row.js';

/** The rate doesn't affect speed; small enough that random data doesn't diverge (which would skip updates). */
const LR = 0.01;

/**
 * What `run` trains per iteration for a config: one step of every (depth, variant) network, in buildTrainees'
 * order, on one batch of `train.batchSize` images, with the config's SGD.
 */
export interface LockstepWorkload {
  name: string;
  specs: NetworkSpec[];
  batch: number;
  sgd: SgdOptions;
}

export function lockstepWorkload(config: Config): LockstepWorkload {
  const { width, shortcut, variants } = config.model;
  return {
    name: config.name,
    specs: configDepths(config).flatMap((depth) => variants.map((variant) => ({ variant, depth, width, shortcut }))),
    batch: config.train.batchSize,
    sgd: { momentum: config.train.momentum, weightDecay: config.train.weightDecay },
  };
}

/**
 * `warmup` untimed then `steps` timed iterations on the current backend (each network built from `seed`, as
 * twins start from the same weights); wall and CPU time per iteration.
 */
export function timeLockstep(w: LockstepWorkload, o: { steps: number; warmup: number; seed: number; threads: number; backend: string }): LockstepRow {
  const nets: BenchNet[] = w.specs.map((spec) => benchNet(spec, o.seed, w.sgd));
  const batch = randomBatch(w.batch, o.seed);
  const iteration = () => {
    for (const n of nets) trainStep(n.net, n.sgd, batch, LR);
  };
  try {
    for (let i = 0; i < o.warmup; i++) iteration();
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < o.steps; i++) {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      iteration();
      wall.push(performance.now() - start);
      cpu.push(cpuMillis(process.cpuUsage(cpuStart)));
    }
    const medianMs = median(wall);
    const imagesPerSec = (w.batch * 1000) / medianMs;
    const macs = nets.reduce((t, n) => t + n.macsPerImage, 0);
    return {
      backend: o.backend,
      networks: w.specs.map(networkId),
      width: w.specs[0]?.width ?? 0,
      batch: w.batch,
      threads: o.threads,
      medianMs: Number(medianMs.toFixed(2)),
      cpuMs: Number(median(cpu).toFixed(2)),
      imagesPerSec: Number(imagesPerSec.toFixed(2)),
      gflops: Number(((6 * macs * imagesPerSec) / 1e9).toFixed(3)),
      steps: o.steps,
    };
  } finally {
    for (const n of nets) n.dispose();
    batch.x.dispose();
    batch.y.dispose();
  }
}
