import * as tf from '@tensorflow/tfjs-core';

/**
 * The engine methods TF.js keeps private (tfjs-core 4.22's engine.ts) that saving tensors for the backward pass
 * goes through: `clone` is called only there (for a kernel's saved inputs and outputs, and for customGrad's save).
 */
interface SavingEngine {
  clone(x: tf.Tensor): tf.Tensor;
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend?: tf.KernelBackend): tf.Tensor;
  backend: tf.KernelBackend;
}

/**
 * While a gradient tape records, TF.js keeps every tensor a kernel's gradient needs by running an Identity kernel
 * on it and adding that Identity to the tape: in a lockstep iteration of four width-8 CIFAR nets that is ~1,100
 * kernel calls and tape nodes, a quarter of all, for nothing but a second reference. The tape node is never used
 * (a saved tensor feeds no forward op, so backprop filters it out) and cpu's Identity is just a reference count,
 * so this takes the reference directly: a new tensor on the same data, kept by the caller and disposed after
 * backprop as before. The saved values are the same data either way (wasm's Identity copied them), so results are
 * unchanged.
 */
function saveByReference(this: SavingEngine, x: tf.Tensor): tf.Tensor {
  this.backend.incRef(x.dataId);
  return this.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype }, this.backend);
}

/** Idempotent; the engine is one per process, so this holds for every backend. */
export function installSaveByReference(): void {
  const engine = tf.engine() as unknown as SavingEngine;
  if (engine.clone !== saveByReference) engine.clone = saveByReference;
}
