import * as tf from '@tensorflow/tfjs-core';
import type { OnednnAddon } from './addon.js';
import { broadcastLevels, reductionView } from './broadcast.js';
import { RELU_GRAD } from '../../ops/relu.js';
import { cpuBackendOf, cpuFallback, f32, inputsOf, newOutput, type KernelArgs, type KernelResult } from './kernel-util.js';


const sameShape = (a: tf.TensorInfo, b: tf.TensorInfo): boolean =>
  a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

const BINARY_OPS = { [tf.Add]: 0, [tf.Sub]: 1, [tf.Multiply]: 2, [tf.RealDiv]: 3 } as const;

/** Float32 arithmetic with broadcasting (residual adds, gradient sums, optimizer updates, mean's gradient), else cpu's. */
function binary(addon: OnednnAddon, kernelName: keyof typeof BINARY_OPS, backendName: string): tf.KernelConfig {
  const fallback = cpuFallback(kernelName);
  const op = BINARY_OPS[kernelName];
  const kernelFunc = (args: KernelArgs): KernelResult => {
    const backend = cpuBackendOf(args);
    const { a, b } = inputsOf(args, 'a', 'b');
    const as = f32(backend, a);
    const bs = f32(backend, b);
    if (!as || !bs) return fallback(args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const levels = broadcastLevels(a.shape, b.shape, outShape);
    if (!levels) return fallback(args);
    const out = newOutput(backend, outShape);
    addon.binary(op, as, bs, out.values, levels);
    return out.info;
  };
  return { kernelName, backendName, kernelFunc };
}

/** Sum and Mean over one contiguous run of axes (global average pooling is axes [1, 2] of NHWC), else cpu's. */
function reduction(addon: OnednnAddon, kernelName: typeof tf.Sum | typeof tf.Mean, backendName: string): tf.KernelConfig {
  const fallback = cpuFallback(kernelName);
  const kernelFunc = (args: KernelArgs): KernelResult => {
    const backend = cpuBackendOf(args);
    const { x } = inputsOf(args, 'x');
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const xs = f32(backend, x);
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const view = xs ? reductionView(x.shape, axes) : undefined;
    if (!xs || !view) return fallback(args);
    const [outer, reduce, inner] = view;
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const out = newOutput(backend, keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i)));
    addon.reduce(xs, out.values, outer, reduce, inner, kernelName === tf.Mean ? 1 / reduce : 1);
    return out.info;
  };
  return { kernelName, backendName, kernelFunc };
}

export function eltwiseKernels(addon: OnednnAddon, backendName: string): tf.KernelConfig[] {
  const reluCpu = cpuFallback(tf.Relu);
  const stepCpu = cpuFallback(tf.Step);
  const addNCpu = cpuFallback(tf.AddN);

  const relu = (args: KernelArgs): KernelResult => {
    const backend = cpuBackendOf(args);
    const { x } = inputsOf(args, 'x');
    const xs = f32(backend, x);
    if (!xs) return reluCpu(args);
    const out = newOutput(backend, [...x.shape]);
    addon.relu(xs, out.values);
    return out.info;
  };

  const reluGrad = (args: KernelArgs): KernelResult => {
    const backend = cpuBackendOf(args);
    const { dy, x } = inputsOf(args, 'dy', 'x');
    const dys = f32(backend, dy);
    const xs = f32(backend, x);
    if (!dys || !xs || !sameShape(dy, x)) throw new Error(`${RELU_GRAD} takes float32 dy and x of one shape`);
    const out = newOutput(backend, [...x.shape]);
    addon.reluGrad(dys, xs, out.values);
    return out.info;
  };

  const step = (args: KernelArgs): KernelResult => {
    const backend = cpuBackendOf(args);
    const { x } = inputsOf(args, 'x');
    const { alpha } = args.attrs as unknown as tf.StepAttrs;
    const xs = f32(backend, x);
    if (!xs) return stepCpu(args);
    const out = newOutput(backend, [...x.shape]);
    addon.step(xs, out.values, alpha);
    return out.info;
  };

  const addN = (args: KernelArgs): KernelResult => {
    const backend = cpuBackendOf(args);
    const tensors = args.inputs as unknown as tf.TensorInfo[];
    const first = tensors[0];
    const values = tensors.map((t) => f32(backend, t));
    if (!first || !values.every((v): v is Float32Array => v !== undefined) || !tensors.every((t) => sameShape(t, first))) {
      return addNCpu(args);
    }
    const out = newOutput(backend, [...first.shape]);
    addon.addN(values, out.values);
    return out.info;
  };

  return [
    { kernelName: tf.Relu, backendName, kernelFunc: relu },
    { kernelName: RELU_GRAD, backendName, kernelFunc: reluGrad },
    { kernelName: tf.Step, backendName, kernelFunc: step },
    { kernelName: tf.AddN, backendName, kernelFunc: addN },
    binary(addon, tf.Add, backendName),
    binary(addon, tf.Sub, backendName),
    binary(addon, tf.Multiply, backendName),
    binary(addon, tf.RealDiv, backendName),
    reduction(addon, tf.Sum, backendName),
    reduction(addon, tf.Mean, backendName),
  ];
}
