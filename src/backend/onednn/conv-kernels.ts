import * as tf from '@tensorflow/tfjs-core';
import type { OnednnAddon } from './addon.js';
import { cpuBackendOf, cpuFallback, f32, inputsOf, newOutput, type KernelArgs, type KernelResult } from './kernel-util.js';

type Shape4 = [number, number, number, number];

/**
 * The addon's geometry for a TF.js conv, or undefined for what it doesn't do (NCHW). TF.js resolves the
 * padding, so 'same' at stride 2 keeps TF's asymmetric split (the extra row/column goes bottom/right).
 */
function geometry(info: tf.backend_util.Conv2DInfo): number[] | undefined {
  if (info.dataFormat !== 'channelsLast') return undefined;
  const { padInfo: p } = info;
  if (p.top < 0 || p.bottom < 0 || p.left < 0 || p.right < 0) return undefined;
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth,
    p.top, p.left, p.bottom, p.right,
  ];
}

/** `onForward` runs before every forward convolution: a cheap, regular hook for the thread policy. */
export function convKernels(addon: OnednnAddon, backendName: string, onForward: () => void = () => {}): tf.KernelConfig[] {
  const conv2dCpu = cpuFallback(tf.Conv2D);
  const backpropInputCpu = cpuFallback(tf.Conv2DBackpropInput);
  const backpropFilterCpu = cpuFallback(tf.Conv2DBackpropFilter);

  const conv2d = (args: KernelArgs): KernelResult => {
    onForward();
    const backend = cpuBackendOf(args);
    const { x, filter } = inputsOf(args, 'x', 'filter');
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as tf.Conv2DAttrs;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as Shape4, filter.shape as Shape4, strides, dilations, pad, dimRoundingMode, false,
      tf.backend_util.convertConv2DDataFormat(dataFormat),
    );
    const g = geometry(info);
    const xs = f32(backend, x);
    const ws = f32(backend, filter);
    if (!g || !xs || !ws) return conv2dCpu(args);
    const out = newOutput(backend, info.outShape);
    addon.convForward(xs, ws, out.values, ...g);
    return out.info;
  };

  const conv2dBackpropInput = (args: KernelArgs): KernelResult => {
    const backend = cpuBackendOf(args);
    const { dy, filter } = inputsOf(args, 'dy', 'filter');
    const { inputShape, strides, pad, dataFormat, dimRoundingMode } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    const info = tf.backend_util.computeConv2DInfo(
      inputShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, false,
      tf.backend_util.convertConv2DDataFormat(dataFormat),
    );
    const g = geometry(info);
    const dys = f32(backend, dy);
    const ws = f32(backend, filter);
    if (!g || !dys || !ws) return backpropInputCpu(args);
    const out = newOutput(backend, info.inShape);
    addon.convBackwardData(dys, ws, out.values, ...g);
    return out.info;
  };

  const conv2dBackpropFilter = (args: KernelArgs): KernelResult => {
    const backend = cpuBackendOf(args);
    const { x, dy } = inputsOf(args, 'x', 'dy');
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, false,
      tf.backend_util.convertConv2DDataFormat(dataFormat),
    );
    const g = geometry(info);
    const xs = f32(backend, x);
    const dys = f32(backend, dy);
    if (!g || !xs || !dys) return backpropFilterCpu(args);
    const out = newOutput(backend, [...filterShape]);
    addon.convBackwardWeights(xs, dys, out.values, ...g);
    return out.info;
  };

  return [
    { kernelName: tf.Conv2D, backendName, kernelFunc: conv2d },
    { kernelName: tf.Conv2DBackpropInput, backendName, kernelFunc: conv2dBackpropInput },
    { kernelName: tf.Conv2DBackpropFilter, backendName, kernelFunc: conv2dBackpropFilter },
  ];
}
