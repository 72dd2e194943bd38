import * as tf from '@tensorflow/tfjs-core';
import { MOVING_AVERAGES, MOVING_AVERAGES_MULTI, type MovingAveragesAttrs, type MovingAveragesMultiAttrs } from '../../ops/moving-average.js';
import { SGD_MOMENTUM, SGD_MOMENTUM_MULTI, type SgdMomentumAttrs, type SgdMomentumMultiAttrs } from '../../ops/sgd-momentum.js';
import type { OnednnAddon } from './addon.js';
import { cpuBackendOf, f32, inputsOf, newOutput, type KernelArgs, type KernelResult } from './kernel-util.js';

const sameShape = (a: tf.TensorInfo, b: tf.TensorInfo): boolean =>
  a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/** Float32 data of same-shaped inputs, or a one-line error naming the kernel. */
function values(args: KernelArgs, kernel: string, names: string[]): Float32Array[] {
  const backend = cpuBackendOf(args);
  const inputs = inputsOf(args, ...names);
  const first = inputs[names[0]];
  return names.map((name) => {
    const t = inputs[name];
    const v = f32(backend, t);
    if (!v || !sameShape(t, first)) throw new Error(`${kernel} takes float32 ${names.join(', ')} of one shape`);
    return v;
  });
}

/** The parameter-update contracts (src/ops/sgd-momentum.ts, src/ops/moving-average.ts): one native pass each. */
export function updateKernels(addon: OnednnAddon, backendName: string): tf.KernelConfig[] {
  const sgd = (args: KernelArgs): KernelResult => {
    const [w, v, g] = values(args, SGD_MOMENTUM, ['w', 'v', 'g']);
    const { lr, momentum, weightDecay } = args.attrs as unknown as SgdMomentumAttrs;
    const shape = [...args.inputs.w!.shape];
    const wOut = newOutput(cpuBackendOf(args), shape);
    const vOut = newOutput(cpuBackendOf(args), shape);
    addon.sgdMomentum(w, v, g, wOut.values, vOut.values, lr, momentum, weightDecay);
    return [wOut.info, vOut.info];
  };

  // One TF.js kernel call for every parameter; each parameter still one native pass (a few dozen floats each:
  // the crossing is cheap, TF.js's per-call bookkeeping was not).
  const sgdMulti = (args: KernelArgs): KernelResult => {
    const { lr, momentum, weightDecays } = args.attrs as unknown as SgdMomentumMultiAttrs;
    const backend = cpuBackendOf(args);
    const out: tf.TensorInfo[] = [];
    weightDecays.forEach((weightDecay, i) => {
      const [w, v, g] = values(args, SGD_MOMENTUM_MULTI, [`w${i}`, `v${i}`, `g${i}`]);
      const shape = [...args.inputs[`w${i}`]!.shape];
      const wOut = newOutput(backend, shape);
      const vOut = newOutput(backend, shape);
      addon.sgdMomentum(w, v, g, wOut.values, vOut.values, lr, momentum, weightDecay);
      out.push(wOut.info, vOut.info);
    });
    return out;
  };

  const moving = (args: KernelArgs): KernelResult => {
    const [m, v, mean, variance] = values(args, MOVING_AVERAGES, ['movingMean', 'movingVariance', 'mean', 'variance']);
    const { momentum, correction } = args.attrs as unknown as MovingAveragesAttrs;
    const shape = [...args.inputs.movingMean!.shape];
    const mOut = newOutput(cpuBackendOf(args), shape);
    const vOut = newOutput(cpuBackendOf(args), shape);
    addon.movingAverages(m, v, mean, variance, mOut.values, vOut.values, momentum, correction);
    return [mOut.info, vOut.info];
  };

  const movingMulti = (args: KernelArgs): KernelResult => {
    const { momentum, corrections } = args.attrs as unknown as MovingAveragesMultiAttrs;
    const backend = cpuBackendOf(args);
    const out: tf.TensorInfo[] = [];
    corrections.forEach((correction, i) => {
      const names = [`movingMean${i}`, `movingVariance${i}`, `mean${i}`, `variance${i}`];
      const [m, v, mean, variance] = values(args, MOVING_AVERAGES_MULTI, names);
      const shape = [...args.inputs[names[0]]!.shape];
      const mOut = newOutput(backend, shape);
      const vOut = newOutput(backend, shape);
      addon.movingAverages(m, v, mean, variance, mOut.values, vOut.values, momentum, correction);
      out.push(mOut.info, vOut.info);
    });
    return out;
  };

  return [
    { kernelName: SGD_MOMENTUM, backendName, kernelFunc: sgd },
    { kernelName: SGD_MOMENTUM_MULTI, backendName, kernelFunc: sgdMulti },
    { kernelName: MOVING_AVERAGES, backendName, kernelFunc: moving },
    { kernelName: MOVING_AVERAGES_MULTI, backendName, kernelFunc: movingMulti },
  ];
}
