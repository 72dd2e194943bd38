import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from '../../ops/batch-norm.js';
import { BATCH_NORM_ACT, BATCH_NORM_ACT_GRAD, BATCH_NORM_ACT_INFERENCE, type BatchNormActAttrs } from '../../ops/batch-norm-act.js';
import type { OnednnAddon } from './addon.js';
import { cpuBackendOf, cpuFallback, f32, inputsOf, newOutput, type KernelArgs, type KernelResult } from './kernel-util.js';

interface BnAttrs {
  epsilon: number;
}

function need(backend: ReturnType<typeof cpuBackendOf>, t: tf.TensorInfo, what: string): Float32Array {
  const values = f32(backend, t);
  if (!values) throw new Error(`${BATCH_NORM_TRAIN}: ${what} must be a float32 tensor`);
  return values;
}

const sameShape = (a: tf.TensorInfo, b: tf.TensorInfo): boolean =>
  a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

function nhwc(x: tf.TensorInfo): [number, number, number, number] {
  if (x.shape.length !== 4) throw new Error(`${BATCH_NORM_TRAIN}: x must be NHWC (rank 4)`);
  return x.shape as [number, number, number, number];
}

/**
 * The training batch-norm contracts (src/ops/batch-norm.ts, and the fused BN + residual + ReLU of
 * src/ops/batch-norm-act.ts), run by the addon's own NHWC kernels (native/onednn/src/bnact.cc): oneDNN's batch
 * normalisation spin-waits between its phases, which costs many times its work when another process holds a core.
 */
export function batchNormKernels(addon: OnednnAddon, backendName: string): tf.KernelConfig[] {
  const forward = (args: KernelArgs, relu: boolean, residual: tf.TensorInfo | undefined): KernelResult => {
    const backend = cpuBackendOf(args);
    const { x, scale, offset } = inputsOf(args, 'x', 'scale', 'offset');
    const { epsilon } = args.attrs as unknown as BnAttrs;
    const [n, h, w, c] = nhwc(x);
    if (residual && !sameShape(residual, x)) throw new Error(`${BATCH_NORM_ACT}: residual must have x's shape`);
    const y = newOutput(backend, [n, h, w, c]);
    const mean = newOutput(backend, [c]);
    const variance = newOutput(backend, [c]);
    addon.bnActForward(
      need(backend, x, 'x'), need(backend, scale, 'scale'), need(backend, offset, 'offset'),
      residual ? need(backend, residual, 'residual') : null,
      y.values, mean.values, variance.values, n * h * w, c, epsilon, relu,
    );
    return [y.info, mean.info, variance.info];
  };

  const backward = (args: KernelArgs, relu: boolean, residual: boolean): KernelResult => {
    const backend = cpuBackendOf(args);
    const { dy, x, scale, mean, variance } = inputsOf(args, 'dy', 'x', 'scale', 'mean', 'variance');
    const { epsilon } = args.attrs as unknown as BnAttrs;
    const [n, h, w, c] = nhwc(x);
    const y = relu ? need(backend, inputsOf(args, 'y').y, 'y') : null;
    const dx = newOutput(backend, [n, h, w, c]);
    const dScale = newOutput(backend, [c]);
    const dOffset = newOutput(backend, [c]);
    const dResidual = residual ? newOutput(backend, [n, h, w, c]) : undefined;
    addon.bnActBackward(
      need(backend, dy, 'dy'), need(backend, x, 'x'), y, need(backend, scale, 'scale'),
      need(backend, mean, 'mean'), need(backend, variance, 'variance'),
      dx.values, dScale.values, dOffset.values, dResidual?.values ?? null, n * h * w, c, epsilon, relu,
    );
    return dResidual ? [dx.info, dScale.info, dOffset.info, dResidual.info] : [dx.info, dScale.info, dOffset.info];
  };

  const actAttrs = (args: KernelArgs): BatchNormActAttrs => args.attrs as unknown as BatchNormActAttrs;
  const forwardAct = (args: KernelArgs): KernelResult => {
    const a = actAttrs(args);
    const residual = args.inputs.residual;
    if (a.residual !== (residual !== undefined)) throw new Error(`${BATCH_NORM_ACT}: the residual attribute and input disagree`);
    return forward(args, a.relu, residual);
  };
  const backwardAct = (args: KernelArgs): KernelResult => backward(args, actAttrs(args).relu, actAttrs(args).residual);

  const inferenceCpu = cpuFallback(tf.FusedBatchNorm);

  /**
   * Evaluation-mode batch norm (moving statistics) folded into one multiply-add per channel, then the residual and
   * ReLU when asked; undefined when the inputs are not what the addon takes.
   */
  const inference = (args: KernelArgs, residual: tf.TensorInfo | undefined, relu: boolean, epsilon: number): KernelResult | undefined => {
    const backend = cpuBackendOf(args);
    const { x, mean, variance } = inputsOf(args, 'x', 'mean', 'variance');
    const { scale, offset } = args.inputs;
    const channels = x.shape[x.shape.length - 1] ?? 0;
    const xs = f32(backend, x);
    const params = [mean, variance, scale, offset].map((t) => (t ? f32(backend, t) : undefined));
    const fits = (t: tf.TensorInfo | undefined, v: Float32Array | undefined) => t === undefined || (v !== undefined && (v.length === channels || v.length === 1));
    if (!xs || channels === 0 || ![mean, variance, scale, offset].every((t, i) => fits(t, params[i]))) return undefined;
    const rs = residual ? f32(backend, residual) : null;
    if (residual && (!rs || !sameShape(residual, x))) return undefined;
    const [m, v, s, o] = params;
    const at = (p: Float32Array | undefined, c: number, otherwise: number) => (p ? p[p.length === 1 ? 0 : c] : otherwise);
    const a = new Float32Array(channels);
    const b = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const gain = at(s, c, 1) / Math.sqrt(at(v, c, 0) + epsilon);
      a[c] = gain;
      b[c] = at(o, c, 0) - at(m, c, 0) * gain;
    }
    const out = newOutput(backend, [...x.shape]);
    addon.affine(xs, a, b, out.values, rs ?? null, relu);
    return out.info;
  };

  const fusedBatchNorm = (args: KernelArgs): KernelResult =>
    inference(args, undefined, false, (args.attrs as unknown as tf.FusedBatchNormAttrs).varianceEpsilon) ?? inferenceCpu(args);

  const inferenceAct = (args: KernelArgs): KernelResult => {
    const a = args.attrs as unknown as BatchNormActAttrs;
    const residual = args.inputs.residual;
    if (a.residual !== (residual !== undefined)) throw new Error(`${BATCH_NORM_ACT_INFERENCE}: the residual attribute and input disagree`);
    const out = inference(args, residual, a.relu, a.epsilon);
    if (!out) throw new Error(`${BATCH_NORM_ACT_INFERENCE}: x, its statistics and the residual must be float32 of matching shapes`);
    return out;
  };

  return [
    { kernelName: tf.FusedBatchNorm, backendName, kernelFunc: fusedBatchNorm },
    { kernelName: BATCH_NORM_ACT_INFERENCE, backendName, kernelFunc: inferenceAct },
    { kernelName: BATCH_NORM_TRAIN, backendName, kernelFunc: (args) => forward(args, false, undefined) },
    { kernelName: BATCH_NORM_TRAIN_GRAD, backendName, kernelFunc: (args) => backward(args, false, false) },
    { kernelName: BATCH_NORM_ACT, backendName, kernelFunc: forwardAct },
    { kernelName: BATCH_NORM_ACT_GRAD, backendName, kernelFunc: backwardAct },
  ];
}
