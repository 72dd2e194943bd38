import * as tf from '@tensorflow/tfjs-core';
import type { Config } from '../config/schema.js';
import { channelStats, inputPipeline, type ImageSet } from '../data/index.js';
import type { BatchStats, LayerResponse } from '../models/context.js';
import { blankInput, forwardPass, type Network } from '../models/network.js';
import type { DiagnosticsRow } from '../record/diagnostics-csv.js';
import type { RunFolder } from '../record/run-folder.js';
import type { LockstepState } from './lockstep.js';
import { softmaxCrossEntropy } from '../ops/softmax-cross-entropy.js';
import type { Batch } from './step.js';

/**
 * Why residual nets train: per-layer gradient norms (do gradients vanish in deep plain nets?) and the layer
 * responses of He et al. 2015, Fig. 7 (are residual functions closer to zero?). Opt-in via `diagnostics.every`.
 */

export interface LayerValue {
  layer: string;
  value: number;
}

/** Images per forward pass when measuring responses: every layer's output stays alive until its pass ends. */
const RESPONSE_CHUNK = 32;

const indexCache = new WeakMap<Network, Map<string, number>>();

/**
 * The paper's layer numbering, by layer name: the weighted layers' convs in forward order (stem 1, …, depth−1),
 * then the classifier (depth). Convs on shortcuts (projections, gates) are not counted in the depth and get no
 * number.
 */
export function layerIndices(net: Network): Map<string, number> {
  const cached = indexCache.get(net);
  if (cached) return cached;
  const responses: LayerResponse[] = [];
  tf.tidy(() => {
    forwardPass(net.spec, { params: net.params, mode: 'eval', batchStats: [], responses }, blankInput(net.spec));
  });
  const indices = new Map(responses.map((r, i) => [r.layer, i + 1]));
  for (const c of net.costs) if (c.kind === 'dense') indices.set(c.layer, indices.size + 1);
  indexCache.set(net, indices);
  return indices;
}

const KERNEL_SUFFIX = '.kernel';

/**
 * L2 norm of the cross-entropy gradient w.r.t. each conv/dense kernel (weight decay excluded: it is the SGD's,
 * not the loss's), on `batch` exactly as the training step sees it: BN on batch statistics, gradients of
 * `microBatch` slices averaged, random draws (dropout shortcuts) those of `step`. Nothing is updated, neither
 * weights nor BN moving statistics.
 */
export function gradientNorms(net: Network, batch: Batch, microBatch?: number, step = 0): LayerValue[] {
  const kernels = net.params.trainable().filter((p) => p.role === 'kernel');
  const size = batch.x.shape[0];
  const slice = Math.min(microBatch ?? size, size);
  const slices = Math.ceil(size / slice);
  const norms = tf.tidy(() => {
    let summed: tf.Tensor[] = [];
    for (let s = 0; s < slices; s++) {
      const start = s * slice;
      const count = Math.min(slice, size - start);
      const x = slices === 1 ? batch.x : tf.slice(batch.x, [start, 0, 0, 0], [count, -1, -1, -1]);
      const y = slices === 1 ? batch.y : tf.slice(batch.y, [start], [count]);
      let stats: BatchStats[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const out = net.forward(x, 'train', { step, slice: s });
        stats = out.batchStats;
        return softmaxCrossEntropy(out.logits, y).loss;
      }, kernels.map((p) => p.variable));
      value.dispose();
      // Kept out of tidy scopes by batchNorm; the moving averages are not ours to update.
      for (const st of stats) {
        st.mean.dispose();
        st.variance.dispose();
      }
      const g = kernels.map((p) => grads[p.variable.name]);
      summed = s === 0 ? g : summed.map((a, i) => tf.add(a, g[i]));
    }
    return tf.stack(summed.map((g) => tf.div(tf.sqrt(tf.sum(tf.square(g))), slices)));
  });
  const values = norms.dataSync();
  norms.dispose();
  return kernels.map((p, i) => ({ layer: p.name.endsWith(KERNEL_SUFFIX) ? p.name.slice(0, -KERNEL_SUFFIX.length) : p.name, value: values[i] }));
}

/**
 * What Fig. 7 measures of a weighted layer's output: after its own BN where it has one. Pre-activation layers
 * have none (the BN after a conv there belongs to the next conv's pre-activation, and the models leave it out of
 * the response), so theirs is the raw conv output; the 2016 paper shows no response figure to follow.
 */
const responseOf = (r: LayerResponse): tf.Tensor4D => r.bn ?? r.conv;

/**
 * Fig. 7 of He et al. 2015: the standard deviation of each weighted layer's output (3x3 layers in its nets; the
 * 1x1 ones of bottlenecks too) after its BN and before the ReLU/addition, over all values (images, positions,
 * channels) of `x`, BN in inference mode. In layer order.
 */
export function responseStds(net: Network, x: tf.Tensor4D): LayerValue[] {
  // Moments per chunk, merged in float64 (Chan et al.): one pass over 256 images of a deep net would keep
  // every layer's output alive at once.
  const merged: { layer: string; n: number; mean: number; m2: number }[] = [];
  for (let start = 0; start < x.shape[0]; start += RESPONSE_CHUNK) {
    const count = Math.min(RESPONSE_CHUNK, x.shape[0] - start);
    const responses: LayerResponse[] = [];
    const moments = tf.tidy(() => {
      const part = tf.slice(x, [start, 0, 0, 0], [count, -1, -1, -1]);
      forwardPass(net.spec, { params: net.params, mode: 'eval', batchStats: [], responses }, part);
      return tf.stack(responses.map((r) => {
        const m = tf.moments(responseOf(r));
        return tf.stack([m.mean, m.variance]);
      }));
    });
    const values = moments.dataSync();
    moments.dispose();
    responses.forEach((r, i) => {
      const n = responseOf(r).size;
      const mean = values[2 * i];
      const m2 = values[2 * i + 1] * n;
      const acc = merged[i];
      if (!acc) {
        merged.push({ layer: r.layer, n, mean, m2 });
        return;
      }
      const total = acc.n + n;
      const delta = mean - acc.mean;
      acc.m2 += m2 + (delta * delta * acc.n * n) / total;
      acc.mean += (delta * n) / total;
      acc.n = total;
    });
  }
  return merged.map((a) => ({ layer: a.layer, value: Math.sqrt(a.m2 / a.n) }));
}

export interface DiagnosticsInputs {
  config: Config;
  train: ImageSet;
  validation: ImageSet;
  /** Gets each network's rows of one diagnostics point as soon as they exist. */
  write(rows: DiagnosticsRow[]): void;
}

export type RowPointHook = (state: LockstepState, batch: Batch) => void;

/**
 * The lockstep `onRowPoint` hook for one seed: at each row point on the `diagnostics.every` grid, and at the last
 * step, the gradient norms on that step's training batch and the responses on the first `diagnostics.batch`
 * validation images, for every network still training. Undefined when diagnostics are off, so the training
 * loop does nothing extra.
 */
export function diagnosticsHook(inputs: DiagnosticsInputs, seed: number): RowPointHook | undefined {
  const { config } = inputs;
  const every = config.diagnostics.every;
  if (every === undefined) return undefined;
  const pipeline = inputPipeline(config.data, inputs.train);
  let fixed: { x: Float32Array; size: number } | undefined;
  const fixedBatch = () => {
    if (!fixed) {
      const size = Math.min(config.diagnostics.batch, inputs.validation.count);
      const b = pipeline.evalBatch(inputs.validation, 0, size, channelStats(inputs.train));
      fixed = { x: b.x, size };
    }
    return fixed;
  };
  return (state, batch) => {
    if (state.step % every !== 0 && state.step !== config.train.iterations) return;
    const images = fixedBatch();
    const x = tf.tensor4d(images.x, [images.size, pipeline.input.height, pipeline.input.width, 3]);
    try {
      for (const t of state.trainees) {
        if (t.status !== 'training') continue;
        const { variant, depth } = t.net.spec;
        const indices = layerIndices(t.net);
        const row = (kind: DiagnosticsRow['kind']) => (v: LayerValue): DiagnosticsRow => ({
          seed,
          variant,
          depth,
          step: state.step,
          layer: v.layer,
          index: indices.get(v.layer) ?? null,
          kind,
          value: v.value,
        });
        inputs.write([
          ...gradientNorms(t.net, batch, config.train.microBatch, state.step).map(row('grad_norm')),
          ...responseStds(t.net, x).map(row('response_std')),
        ]);
      }
    } finally {
      x.dispose();
    }
  };
}

/**
 * The run's diagnostics.csv and a hook per seed, or undefined when diagnostics are off (then no file is made).
 * On resume, the run folder has dropped the rows past the checkpoint already.
 */
export function openDiagnostics(o: {
  folder: Pick<RunFolder, 'diagnostics'>;
  config: Config;
  train: ImageSet;
  validation: ImageSet;
}): ((seed: number) => RowPointHook | undefined) | undefined {
  if (o.config.diagnostics.every === undefined) return undefined;
  const csv = o.folder.diagnostics();
  return (seed) => diagnosticsHook({ ...o, write: (rows) => csv.append(rows) }, seed);
}
