/**
 * One CIFAR ResNet training step (forward + tf.variableGrads) on wasm: time per step, peak tensor bytes, wasm
 * heap size and the kernels that took the time. Not a test; sizes the wasm heap (4 GiB max) for micro-batching.
 * The network is a self-contained stand-in (3x3 convs, training batch norm, 1x1 stride-2 projections), not
 * src/models.
 *
 *   npx tsc -p . && node dist/bench/wasm-resnet-step.js [depth=20] [batch=128] [steps=2] [threads]
 */
import * as tf from '@tensorflow/tfjs-core';
import '../src/ops/gradients.js';
import { loadWasmBackend } from '../src/backend/wasm.js';
import { batchNormTrain } from '../src/ops/batch-norm.js';

const [depth = 20, batch = 128, steps = 2, threads] = process.argv.slice(2).map(Number);
const loaded = await loadWasmBackend({ threads });
if (!loaded.ok) throw new Error(loaded.error);

interface ConvBn {
  w: tf.Variable;
  gamma: tf.Variable;
  beta: tf.Variable;
}

const variables: tf.Variable[] = [];
function variable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init);
  variables.push(v);
  return v;
}
function convBn(cin: number, cout: number, k = 3): ConvBn {
  return {
    w: variable(tf.mul(tf.randomNormal([k, k, cin, cout]), Math.sqrt(2 / (k * k * cin)))),
    gamma: variable(tf.ones([cout])),
    beta: variable(tf.zeros([cout])),
  };
}
function apply(x: tf.Tensor4D, layer: ConvBn, stride: number, relu: boolean): tf.Tensor4D {
  const h = tf.conv2d(x, layer.w as tf.Tensor4D, stride, 'same');
  const { y } = batchNormTrain(h, layer.gamma as tf.Tensor1D, layer.beta as tf.Tensor1D, 1e-5);
  return relu ? tf.relu(y) : y;
}

const perStage = (depth - 2) / 6;
const stem = convBn(3, 16);
const blocks: { c1: ConvBn; c2: ConvBn; projection?: ConvBn; stride: number }[] = [];
let width = 16;
for (const [stage, out] of [16, 32, 64].entries()) {
  for (let i = 0; i < perStage; i++) {
    const stride = stage > 0 && i === 0 ? 2 : 1;
    blocks.push({ c1: convBn(width, out), c2: convBn(out, out), projection: stride === 2 ? convBn(width, out, 1) : undefined, stride });
    width = out;
  }
}
const dense = variable(tf.mul(tf.randomNormal([64, 10]), 0.1));
const bias = variable(tf.zeros([10]));

const images = tf.randomNormal([batch, 32, 32, 3]) as tf.Tensor4D;
const labels = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32') as tf.Tensor1D, 10);
const loss = (): tf.Scalar => {
  let h = apply(images, stem, 1, true);
  for (const b of blocks) {
    const residual = apply(apply(h, b.c1, b.stride, true), b.c2, 1, false);
    const shortcut = b.projection ? apply(h, b.projection, b.stride, false) : h;
    h = tf.relu(tf.add(residual, shortcut)) as tf.Tensor4D;
  }
  const logits = tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, dense), bias);
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
};

const heapMiB = (): number => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length / 2 ** 20;
console.log(`ResNet-${depth}, batch ${batch}, wasm`);
for (let s = 0; s < steps; s++) {
  const start = performance.now();
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(loss, variables);
    tf.dispose(grads);
    return value;
  });
  const ms = performance.now() - start;
  const byKernel = new Map<string, number>();
  for (const k of profile.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
  const top = [...byKernel]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, t]) => `${name} ${t.toFixed(0)}`);
  console.log(`step ${s}: ${ms.toFixed(0)} ms, peak tensors ${(profile.peakBytes / 2 ** 20).toFixed(0)} MiB, wasm heap ${heapMiB().toFixed(0)} MiB`);
  console.log(`  kernel ms: ${top.join(', ')}`);
}
