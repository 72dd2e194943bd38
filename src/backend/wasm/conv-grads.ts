import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  concat,
  conv2d,
  depthToSpace,
  fromValues,
  heapValues,
  release,
  slice,
  transpose,
  zeros,
  type Pads,
} from './kernel-calls.js';

/**
 * Conv2D gradients for the wasm backend, expressed as forward convolutions so they run on XNNPACK
 * instead of the scalar loops (input grad) or nothing at all (filter grad, absent in tfjs-backend-wasm 4.22).
 *
 * Notation (NHWC, filter [kh, kw, Cin, Cout]): the forward conv is
 *   y[n, oh, ow, co] = Σ_{i, j, ci} x[n, s·oh + i − pt, s·ow + j − pl, ci] · w[i, j, ci, co].
 */

/** The geometry shared by both gradients, from the same conv info the forward pass used. */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
}

type PadAttr = tf.Conv2DBackpropInputAttrs['pad'];

/**
 * Null when the config is outside what these kernels were written and tested for (NCHW, dilations,
 * rounding modes): callers then fall back to the stock kernel or throw.
 */
export function convGeometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: [number, number] | number,
  pad: PadAttr,
  dataFormat: 'NHWC' | 'NCHW',
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): ConvGeometry | null {
  if (dataFormat !== 'NHWC' || dimRoundingMode !== undefined) {
    return null;
  }
  if (pad !== 'same' && pad !== 'valid') {
    return null;
  }
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, undefined, false, 'channelsLast');
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * dw[i, j, ci, co] = Σ_{n, oh, ow} x[n, s·oh + i − pt, s·ow + j − pl, ci] · dy[n, oh, ow, co]
 * is a stride-1 conv with dilation s of x viewed as [Cin (batch), H, W, N (channels)] by dy viewed as a
 * [OH, OW, N, Cout] filter, giving [Cin, kh, kw, Cout]. Its top pad is pt and its bottom pad whatever makes the
 * output exactly kh tall: for TF 'same' with stride 2 that is often 1 (the forward pad was asymmetric,
 * extra at the bottom), and it is negative where trailing input rows are read by no output (a crop).
 */
export function conv2dFilterGrad(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const bottom = g.kh + (g.outH - 1) * g.sh - g.inH - g.padTop;
  const right = g.kw + (g.outW - 1) * g.sw - g.inW - g.padLeft;
  // A negative pad would crop the large transposed x through wasm's Slice (a JS copy of all of it); padding
  // with 0 instead only adds a few output rows/columns, cropped from the small result.
  const pads: Pads = { top: g.padTop, bottom: Math.max(0, bottom), left: g.padLeft, right: Math.max(0, right) };
  const xT = transpose(backend, x, [3, 1, 2, 0]);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]);
  let dwT = conv2d(backend, xT, dyT, [1, 1], [g.sh, g.sw], pads);
  release(backend, xT, dyT);
  if (bottom < 0 || right < 0) {
    const cropped = slice(backend, dwT, [0, 0, 0, 0], [g.inC, g.kh, g.kw, g.outC]);
    release(backend, dwT);
    dwT = cropped;
  }
  const dw = transpose(backend, dwT, [1, 2, 0, 3]);
  release(backend, dwT);
  return dw;
}

/**
 * How one spatial axis of the input gradient splits by output phase p = h mod s.
 * dx[s·a + p] = Σ_m dy[a + q_p − m] · w[s·m + r_p] with r_p = (p + pt) mod s, q_p = ⌊(p + pt)/s⌋, so every
 * phase is a stride-1 correlation of dy with a sub-kernel. All phases share one tap window of size `taps`
 * and one leading pad `padBefore`; tap t of phase p holds w[s·(padBefore + q_p − t) + r_p] (or zero).
 */
interface AxisPhases {
  stride: number;
  taps: number;
  padBefore: number;
  padAfter: number;
  /** kernelIndex[p][t]: the filter index for phase p at tap t, or -1 where the phase has no tap. */
  kernelIndex: number[][];
  /** Rows per phase the conv produces (⌈in/s⌉); the tail beyond `in` is cropped after interleaving. */
  perPhase: number;
}

function axisPhases(k: number, s: number, padBefore: number, inSize: number, outSize: number): AxisPhases {
  const phases = Array.from({ length: s }, (_, p) => {
    const r = (p + padBefore) % s;
    const q = Math.floor((p + padBefore) / s);
    const count = r < k ? Math.ceil((k - r) / s) : 0;
    return { r, q, count };
  });
  const live = phases.filter((ph) => ph.count > 0);
  const lead = Math.max(...live.map((ph) => ph.count - 1 - ph.q));
  const taps = Math.max(...live.map((ph) => lead + ph.q)) + 1;
  const kernelIndex = phases.map((ph) =>
    Array.from({ length: taps }, (_, t) => {
      const m = lead + ph.q - t;
      return m >= 0 && m < ph.count ? s * m + ph.r : -1;
    }),
  );
  const perPhase = Math.ceil(inSize / s);
  return { stride: s, taps, padBefore: lead, padAfter: perPhase - outSize + taps - 1 - lead, kernelIndex, perPhase };
}

/**
 * The filter [tapsH, tapsW, Cout, sh·sw·Cin] whose output channel block (ph·sw + pw) computes phase (ph, pw):
 * built in JS because it is small (at most a few hundred KB) and a pure gather of w.
 */
function phaseFilter(w: Float32Array, g: ConvGeometry, rows: AxisPhases, cols: AxisPhases): Float32Array {
  const phasesOut = g.sh * g.sw * g.inC;
  const out = new Float32Array(rows.taps * cols.taps * g.outC * phasesOut);
  for (let ph = 0; ph < g.sh; ph++) {
    for (let pw = 0; pw < g.sw; pw++) {
      const block = (ph * g.sw + pw) * g.inC;
      for (let th = 0; th < rows.taps; th++) {
        const i = rows.kernelIndex[ph]![th]!;
        if (i < 0) continue;
        for (let tw = 0; tw < cols.taps; tw++) {
          const j = cols.kernelIndex[pw]![tw]!;
          if (j < 0) continue;
          for (let ci = 0; ci < g.inC; ci++) {
            const src = ((i * g.kw + j) * g.inC + ci) * g.outC;
            const dst = (th * cols.taps + tw) * g.outC * phasesOut + block + ci;
            for (let co = 0; co < g.outC; co++) {
              out[dst + co * phasesOut] = w[src + co]!;
            }
          }
        }
      }
    }
  }
  return out;
}

function cropTo(backend: BackendWasm, x: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const [, h, w] = x.shape as [number, number, number, number];
  if (h === g.inH && w === g.inW) {
    return x;
  }
  const cropped = slice(backend, x, [0, 0, 0, 0], [g.batch, g.inH, g.inW, g.inC]);
  release(backend, x);
  return cropped;
}

/**
 * Input gradient by output-phase decomposition: one conv of dy with the phase filter, then DepthToSpace
 * interleaves the sh·sw phases back into rows and columns. For stride 1 this is the textbook conv with the
 * 180°-rotated, in/out-swapped kernel. For stride 2 it costs (⌈k/2⌉·2)²/k² of the forward conv's
 * multiply-adds (16/9 for 3x3), against 4x for convolving a zero-dilated dy.
 */
export function conv2dInputGradPhases(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  if (g.sh !== g.sw) {
    throw new Error(`wasm Conv2DBackpropInput: unequal strides ${g.sh}x${g.sw} are not supported`);
  }
  const rows = axisPhases(g.kh, g.sh, g.padTop, g.inH, g.outH);
  const cols = axisPhases(g.kw, g.sw, g.padLeft, g.inW, g.outW);
  const kernel = phaseFilter(heapValues(backend, filter), g, rows, cols);
  const k = fromValues(backend, [rows.taps, cols.taps, g.outC, g.sh * g.sw * g.inC], kernel);
  const phased = conv2d(backend, dy, k, [1, 1], [1, 1], {
    top: rows.padBefore,
    bottom: rows.padAfter,
    left: cols.padBefore,
    right: cols.padAfter,
  });
  release(backend, k);
  if (g.sh === 1) {
    return cropTo(backend, phased, g);
  }
  const interleaved = depthToSpace(backend, phased, g.sh);
  release(backend, phased);
  return cropTo(backend, interleaved, g);
}

/** w[i, j, ci, co] → w[kh−1−i, kw−1−j, co, ci]: the kernel of the transposed conv at stride 1. */
function rotatedSwapped(w: Float32Array, g: ConvGeometry): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < g.kh; i++) {
    for (let j = 0; j < g.kw; j++) {
      const dstTap = ((g.kh - 1 - i) * g.kw + (g.kw - 1 - j)) * g.outC * g.inC;
      for (let ci = 0; ci < g.inC; ci++) {
        const src = ((i * g.kw + j) * g.inC + ci) * g.outC;
        for (let co = 0; co < g.outC; co++) {
          out[dstTap + co * g.inC + ci] = w[src + co]!;
        }
      }
    }
  }
  return out;
}

/**
 * Input gradient by zero-dilation, kept as the measured alternative to the phase version: spread dy onto
 * a stride-1 grid (zeros between samples, via DepthToSpace of [dy, 0, 0, 0]) and convolve with the rotated
 * kernel. Does s² the work of the phase version's useful part, most of it multiplying zeros.
 */
export function conv2dInputGradDilated(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  if (g.sh !== g.sw) {
    throw new Error(`wasm Conv2DBackpropInput: unequal strides ${g.sh}x${g.sw} are not supported`);
  }
  const s = g.sh;
  let spread = dy;
  if (s > 1) {
    const zero = zeros(backend, [g.batch, g.outH, g.outW, g.outC * (s * s - 1)]);
    const stacked = concat(backend, [dy, zero], 3);
    release(backend, zero);
    spread = depthToSpace(backend, stacked, s);
    release(backend, stacked);
  }
  const k = fromValues(backend, [g.kh, g.kw, g.outC, g.inC], rotatedSwapped(heapValues(backend, filter), g));
  const spreadH = g.outH * s;
  const spreadW = g.outW * s;
  const dx = conv2d(backend, spread, k, [1, 1], [1, 1], {
    top: g.kh - 1 - g.padTop,
    bottom: g.inH - spreadH + g.padTop,
    left: g.kw - 1 - g.padLeft,
    right: g.inW - spreadW + g.padLeft,
  });
  release(backend, k);
  if (spread !== dy) {
    release(backend, spread);
  }
  return dx;
}
