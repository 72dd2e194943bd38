import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/**
 * V8 keeps typed arrays of up to 64 bytes on its own heap; anything larger is an off-heap ArrayBuffer whose
 * allocation, zero-filling and release by the garbage collector cost microseconds each. A width-8 lockstep
 * iteration makes ~2,000 such small outputs (per-channel statistics and their gradients, filter gradients):
 * pooling them too measured less CPU per iteration (README, Speed).
 */
const MIN_POOLED_ELEMENTS = 17;

const DEFAULT_POOL_MB = 2048;

function poolLimitBytes(): number {
  const mb = Number(process.env.RESNET_EXP_ONEDNN_POOL_MB);
  return (Number.isFinite(mb) && mb >= 0 ? mb : DEFAULT_POOL_MB) * 1024 * 1024;
}

/**
 * The cpu backend plus a pool of the large Float32Arrays its native kernels write into.
 *
 * Why: a fresh multi-megabyte Float32Array costs page faults on first touch and pushes V8 into full GCs
 * (external memory); measured 2-80 ms per 8 MB activation against 0.3 ms to fill a reused one, so a step
 * spent more time allocating than computing. A training step frees and reallocates the same shapes every
 * iteration, so buffers go back to a per-length free list when their last tensor is disposed.
 *
 * Safety: only buffers this backend allocated are recycled, only once no live tensor uses them (a Slice may
 * keep a subarray view of the same buffer as another tensor), and never once their values have been handed
 * out by readSync/read (dataSync, arraySync, moving to another backend), since the caller may still hold them.
 */
export class PooledCpuBackend extends MathBackendCPU {
  private readonly free = new Map<number, Float32Array[]>();
  private freeBytes = 0;
  private readonly limitBytes = poolLimitBytes();
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private readonly escaped = new WeakSet<ArrayBufferLike>();
  /** Live data entries per owned buffer. */
  private readonly users = new Map<ArrayBufferLike, number>();
  private readonly stats = { fresh: 0, reused: 0, small: 0 };
  private poison = false;

  /**
   * For tests: fill every reused buffer with NaN before handing it out, so that a kernel which leaves part of its
   * output unwritten (relying on a fresh buffer's zeros) changes the result instead of passing by luck.
   */
  poisonReused(on: boolean): void {
    this.poison = on;
  }

  /** An uninitialised (possibly reused) buffer: callers must overwrite every element. */
  allocFloat32(length: number): Float32Array {
    if (length < MIN_POOLED_ELEMENTS) {
      this.stats.small++;
      return new Float32Array(length);
    }
    const reused = this.free.get(length)?.pop();
    if (reused) {
      this.stats.reused++;
      this.freeBytes -= reused.byteLength;
      if (this.poison) reused.fill(Number.NaN);
      return reused;
    }
    this.stats.fresh++;
    const fresh = new Float32Array(length);
    this.owned.add(fresh.buffer);
    return fresh;
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId {
    const dataId = super.write(values, shape, dtype);
    this.track(values);
    return dataId;
  }

  override move(dataId: tf.DataId, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    super.move(dataId, values, shape, dtype, refCount);
    this.track(values);
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    if (ArrayBuffer.isView(values)) this.escaped.add(values.buffer);
    return super.readSync(dataId);
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (values && ArrayBuffer.isView(values) && !this.data.has(dataId)) this.untrack(values.buffer);
    return released;
  }

  /** Outputs allocated so far: fresh (pool miss), reused from the pool, small (never pooled). For benchmarks. */
  allocationStats(): { fresh: number; reused: number; small: number } {
    return { ...this.stats };
  }

  /** Buffers currently pooled, in bytes (for tests and benchmarks). */
  pooledBytes(): number {
    return this.freeBytes;
  }

  override dispose(): void {
    this.free.clear();
    this.freeBytes = 0;
    super.dispose();
  }

  private track(values: tf.backend_util.BackendValues | undefined): void {
    if (!ArrayBuffer.isView(values) || !this.owned.has(values.buffer)) return;
    this.users.set(values.buffer, (this.users.get(values.buffer) ?? 0) + 1);
  }

  private untrack(buffer: ArrayBufferLike): void {
    const users = this.users.get(buffer);
    if (users === undefined) return;
    if (users > 1) {
      this.users.set(buffer, users - 1);
      return;
    }
    this.users.delete(buffer);
    if (this.escaped.has(buffer) || this.freeBytes + buffer.byteLength > this.limitBytes) return;
    const array = new Float32Array(buffer);
    const list = this.free.get(array.length);
    if (list) list.push(array);
    else this.free.set(array.length, [array]);
    this.freeBytes += buffer.byteLength;
  }
}
