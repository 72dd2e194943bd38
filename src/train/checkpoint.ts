import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { samplerStateSchema, type SamplerState } from '../data/index.js';
import { checkpointFolders, runPaths, type RunFolder } from '../record/run-folder.js';
import { networkSummarySchema, type NetworkSummary } from '../record/summary.js';
import { err, ok, type Result } from '../result.js';
import type { LockstepState, NetStatus, Trainee } from './lockstep.js';

/**
 * Checkpoints: `<run>/checkpoints/s<seed index>-<step>/` holding one `<variant>-<depth>.bin` per network (weights,
 * BN moving statistics, momentum buffers) and `manifest.json` (step, sampler and RNG state, each network's
 * running record, and each file's size and SHA-256). The run folder writes a checkpoint folder under a temporary
 * name, fsynced and renamed, so a folder with a final name is complete; damage after that is caught by the checksums.
 */

const traineeRecordSchema = z.object({
  id: z.string(),
  status: z.enum(['training', 'done', 'diverged', 'interrupted']),
  window: z.object({ loss: z.number(), wrong: z.number(), images: z.number(), seconds: z.number(), steps: z.number() }),
  lastTrain: z.object({ loss: z.number().nullable(), error: z.number() }).optional(),
  lastTest: z.object({ loss: z.number(), error: z.number() }).optional(),
  best: z.object({ error: z.number(), step: z.number() }).optional(),
  totals: z.object({ images: z.number(), seconds: z.number() }),
});

export const manifestSchema = z.object({
  version: z.literal(1),
  seedIndex: z.number().int().nonnegative(),
  seed: z.number().int(),
  step: z.number().int().nonnegative(),
  sampler: samplerStateSchema,
  trainees: z.array(traineeRecordSchema),
  /** Summaries of seeds already finished, for summary.json. */
  completed: z.array(networkSummarySchema),
  files: z.array(z.object({ name: z.string(), bytes: z.number().int(), sha256: z.string() })),
});
export type CheckpointManifest = z.infer<typeof manifestSchema>;

interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in floats from the start of the data section. */
  offset: number;
  size: number;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const folderName = (seedIndex: number, step: number): string => `s${seedIndex}-${String(step).padStart(9, '0')}`;

/** One network's tensors as bytes: [uint32 header length][header JSON][pad to 4][float32 data]. */
function encodeTensors(tensors: { name: string; tensor: tf.Tensor }[]): Uint8Array {
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const { name, tensor } of tensors) {
    entries.push({ name, shape: tensor.shape, offset, size: tensor.size });
    offset += tensor.size;
  }
  const header = new TextEncoder().encode(JSON.stringify(entries));
  const dataStart = Math.ceil((4 + header.length) / 4) * 4;
  const bytes = new Uint8Array(dataStart + offset * 4);
  new DataView(bytes.buffer).setUint32(0, header.length, true);
  bytes.set(header, 4);
  const data = new Float32Array(bytes.buffer, dataStart, offset);
  tensors.forEach(({ tensor }, i) => data.set(tensor.dataSync() as Float32Array, entries[i].offset));
  return bytes;
}

function decodeTensors(bytes: Uint8Array): Map<string, { shape: number[]; values: Float32Array }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true);
  const entries = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))) as TensorEntry[];
  const dataStart = Math.ceil((4 + headerLength) / 4) * 4;
  const aligned = new Uint8Array(bytes.subarray(dataStart)); // copy: Float32Array needs 4-byte alignment
  const data = new Float32Array(aligned.buffer, 0, aligned.byteLength / 4);
  return new Map(entries.map((e) => [e.name, { shape: e.shape, values: data.slice(e.offset, e.offset + e.size) }]));
}

function traineeTensors(t: Trainee): { name: string; tensor: tf.Tensor }[] {
  return [
    ...t.net.params.all().map((p) => ({ name: `param:${p.name}`, tensor: p.variable as tf.Tensor })),
    ...[...t.sgd.state()].map(([name, v]) => ({ name: `velocity:${name}`, tensor: v as tf.Tensor })),
  ];
}

export interface CheckpointContext {
  folder: RunFolder;
  seedIndex: number;
  seed: number;
  completed: NetworkSummary[];
  keep: number;
}

/** Writes a checkpoint of `state` and prunes all but the newest `keep`. Returns its folder. */
export function writeCheckpoint(ctx: CheckpointContext, state: LockstepState): string {
  const files: CheckpointManifest['files'] = [];
  const contents: { name: string; data: Uint8Array | string }[] = [];
  for (const t of state.trainees) {
    const bytes = encodeTensors(traineeTensors(t));
    const name = `${t.net.id}.bin`;
    contents.push({ name, data: bytes });
    files.push({ name, bytes: bytes.length, sha256: sha256(bytes) });
  }
  const manifest: CheckpointManifest = {
    version: 1,
    seedIndex: ctx.seedIndex,
    seed: ctx.seed,
    step: state.step,
    sampler: state.sampler.getState() as SamplerState,
    trainees: state.trainees.map((t) => ({
      id: t.net.id,
      status: t.status,
      window: { ...t.window },
      lastTrain: t.lastTrain && { loss: Number.isFinite(t.lastTrain.loss) ? t.lastTrain.loss : null, error: t.lastTrain.error },
      lastTest: t.lastTest && { ...t.lastTest },
      best: t.best && { ...t.best },
      totals: { ...t.totals },
    })),
    completed: ctx.completed,
    files,
  };
  contents.push({ name: 'manifest.json', data: `${JSON.stringify(manifest)}\n` });
  return ctx.folder.writeCheckpoint(folderName(ctx.seedIndex, state.step), contents, ctx.keep);
}

export interface LoadedCheckpoint {
  folder: string;
  manifest: CheckpointManifest;
  tensors: Map<string, Map<string, { shape: number[]; values: Float32Array }>>;
}

/** Reads and verifies one checkpoint folder: manifest schema, then each file's size and checksum. */
export function readCheckpoint(folder: string): Result<LoadedCheckpoint, string> {
  let manifest: CheckpointManifest;
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')));
    if (!parsed.success) return err(`${folder}: manifest does not match the checkpoint format`);
    manifest = parsed.data;
  } catch (e) {
    return err(`${folder}: unreadable manifest (${e instanceof Error ? e.message : String(e)})`);
  }
  const tensors = new Map<string, Map<string, { shape: number[]; values: Float32Array }>>();
  for (const file of manifest.files) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(folder, file.name));
    } catch {
      return err(`${folder}: ${file.name} is missing`);
    }
    if (bytes.length !== file.bytes) return err(`${folder}: ${file.name} has ${bytes.length} bytes, expected ${file.bytes} (truncated?)`);
    if (sha256(bytes) !== file.sha256) return err(`${folder}: ${file.name} fails its checksum`);
    tensors.set(file.name.replace(/\.bin$/, ''), decodeTensors(bytes));
  }
  return ok({ folder, manifest, tensors });
}

/**
 * The newest checkpoint that verifies; damaged newer ones are reported through `warn` and passed over.
 * `undefined` when the run has none.
 */
export function latestCheckpoint(runDir: string, warn: (message: string) => void): LoadedCheckpoint | undefined {
  const root = runPaths(runDir).checkpoints;
  for (const name of checkpointFolders(root).reverse()) {
    const loaded = readCheckpoint(join(root, name));
    if (loaded.ok) return loaded.value;
    warn(`${loaded.error}; using the previous checkpoint`);
  }
  return undefined;
}

/** Puts a checkpoint's tensors and records back into freshly built trainees (same config, same ids). */
export function restoreTrainees(trainees: Trainee[], checkpoint: LoadedCheckpoint): Result<void, string> {
  for (const t of trainees) {
    const record = checkpoint.manifest.trainees.find((r) => r.id === t.net.id);
    const tensors = checkpoint.tensors.get(t.net.id);
    if (!record || !tensors) return err(`checkpoint ${checkpoint.folder} has no state for ${t.net.id}`);
    for (const p of t.net.params.all()) {
      const saved = tensors.get(`param:${p.name}`);
      if (!saved || saved.shape.join('x') !== p.variable.shape.join('x')) {
        return err(`checkpoint ${checkpoint.folder}: ${t.net.id} ${p.name} is missing or has another shape`);
      }
      tf.tidy(() => p.variable.assign(tf.tensor(saved.values, saved.shape)));
    }
    const velocity = new Map<string, tf.Tensor>();
    for (const [name, saved] of tensors) {
      if (name.startsWith('velocity:')) velocity.set(name.slice('velocity:'.length), tf.tensor(saved.values, saved.shape));
    }
    t.sgd.restore(velocity);
    for (const v of velocity.values()) v.dispose();
    t.status = (record.status === 'interrupted' ? 'training' : record.status) as NetStatus;
    t.window = { ...record.window };
    t.lastTrain = record.lastTrain && { loss: record.lastTrain.loss ?? Number.NaN, error: record.lastTrain.error };
    t.lastTest = record.lastTest;
    t.best = record.best;
    t.totals = { ...record.totals };
  }
  return ok(undefined);
}
