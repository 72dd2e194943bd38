/**
 * Times wasm's forward Conv2D against the training kernels registered by src/backend/wasm.ts at ResNet-20
 * (CIFAR) sizes, batch 128. Not a test: prints ms and GFLOP/s per kernel.
 *
 *   npx tsc -p . && node dist/bench/wasm-convs.js [--threads N] [--reps N]
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { loadWasmBackend, stockWasmInputGrad } from '../src/backend/wasm.js';
import { conv2dInputGradDilated, conv2dInputGradPhases, convGeometry } from '../src/backend/wasm/conv-grads.js';

interface Shape {
  name: string;
  hw: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
}

const BATCH = 128;
const SHAPES: Shape[] = [
  { name: 'stage1 3x3 s1', hw: 32, cin: 16, cout: 16, k: 3, stride: 1 },
  { name: 'stage2 3x3 s1', hw: 16, cin: 32, cout: 32, k: 3, stride: 1 },
  { name: 'stage3 3x3 s1', hw: 8, cin: 64, cout: 64, k: 3, stride: 1 },
  { name: '1→2 3x3 s2', hw: 32, cin: 16, cout: 32, k: 3, stride: 2 },
  { name: '2→3 3x3 s2', hw: 16, cin: 32, cout: 64, k: 3, stride: 2 },
  { name: '1→2 1x1 s2', hw: 32, cin: 16, cout: 32, k: 1, stride: 2 },
  { name: '2→3 1x1 s2', hw: 16, cin: 32, cout: 64, k: 1, stride: 2 },
];

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A kernel call that returns how to free its output. */
type Run = () => () => void;

/** Median wall time of `run` (wasm kernels are synchronous, so no data() round trip is needed). */
function time(run: Run, reps: number): number {
  run()(); // warm-up: XNNPACK operator creation, heap growth
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    const free = run();
    samples.push(performance.now() - start);
    free();
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

async function main(): Promise<void> {
  const reps = flag('reps', 5);
  const loaded = await loadWasmBackend({ threads: flag('threads', 0) || undefined });
  if (!loaded.ok) {
    console.error(loaded.error);
    process.exitCode = 1;
    return;
  }
  const backend = tf.backend() as unknown as BackendWasm;
  console.log(`wasm threads: ${getThreadsCount()}, batch ${BATCH}, median of ${reps}`);
  console.log(['shape', 'kernel', 'ms', 'GFLOP/s'].join('\t'));
  for (const s of SHAPES) {
    const out = Math.ceil(s.hw / s.stride);
    const x = tf.randomNormal([BATCH, s.hw, s.hw, s.cin]) as tf.Tensor4D;
    const w = tf.randomNormal([s.k, s.k, s.cin, s.cout]) as tf.Tensor4D;
    const dy = tf.randomNormal([BATCH, out, out, s.cout]) as tf.Tensor4D;
    const strides: [number, number] = [s.stride, s.stride];
    const flops = 2 * BATCH * out * out * s.k * s.k * s.cin * s.cout;
    const g = convGeometry(x.shape, w.shape, strides, 'same', 'NHWC', undefined)!;
    const stock = stockWasmInputGrad();
    const engineRun =
      (kernel: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap): Run =>
      () => {
        const out = tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor;
        return () => out.dispose();
      };
    const direct =
      (compute: () => tf.TensorInfo): Run =>
      () => {
        const out = compute();
        return () => backend.disposeData(out.dataId);
      };
    const kernels: [string, Run][] = [
      ['forward Conv2D', engineRun(tf.Conv2D, { x, filter: w }, { strides, pad: 'same', dataFormat: 'NHWC', dilations: 1 })],
      ['filter grad', engineRun(tf.Conv2DBackpropFilter, { x, dy }, { strides, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape })],
      ['input grad (phases, registered)', direct(() => conv2dInputGradPhases(backend, dy, w, g))],
      ['input grad (zero-dilated dy)', direct(() => conv2dInputGradDilated(backend, dy, w, g))],
    ];
    if (stock !== undefined) {
      const attrs = { strides, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape };
      kernels.push([
        'input grad (stock tfjs 4.22)',
        direct(() => stock.kernelFunc({ inputs: { dy, filter: w }, backend, attrs }) as tf.TensorInfo),
      ]);
    }
    for (const [name, run] of kernels) {
      const ms = time(run, reps);
      console.log([`${s.name} ${s.hw}x${s.hw}x${s.cin}→${s.cout}`, name, ms.toFixed(1), (flops / ms / 1e6).toFixed(1)].join('\t'));
    }
    tf.dispose([x, w, dy]);
  }
}

await main();
