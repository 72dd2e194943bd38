/**
 * One CIFAR ResNet training step on wasm: time per step, peak tensor bytes, wasm heap size and the kernels that
 * took the time. Not a test; sizes the wasm heap (4 GiB max) for micro-batching. The step is the product's
 * (src/train/step.ts: forward and backward in training mode, SGD with momentum and weight decay) on the
 * product's network (src/models: buildNetwork, residual, option A).
 *
 *   npx tsc -p . && node dist/bench/wasm-resnet-step.js [depth=20] [batch=128] [steps=2] [threads]
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadWasmBackend } from '../src/backend/wasm.js';
import { benchNet, randomBatch } from '../src/bench/measure.js';
import { trainStep } from '../src/train/step.js';

const [depth = 20, batch = 128, steps = 2, threads] = process.argv.slice(2).map(Number);
const loaded = await loadWasmBackend({ threads });
if (!loaded.ok) throw new Error(loaded.error);

const net = benchNet({ variant: 'residual', depth, width: 16, shortcut: 'A' }, 1);
const data = randomBatch(batch, 1);

const heapMiB = (): number => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length / 2 ** 20;
console.log(`ResNet-${depth}, batch ${batch}, wasm`);
for (let s = 0; s < steps; s++) {
  const start = performance.now();
  const profile = await tf.profile(() => {
    trainStep(net.net, net.sgd, data, 0.01);
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
net.dispose();
