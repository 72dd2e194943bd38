import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { configDepths, configSeeds, type Config } from '../config/schema.js';
import { samplerStateSchema, type SamplerState } from '../data/index.js';
import { networkId } from '../models/network.js';
import { checkpointFolders, runPaths, type RunFolder } from '../record/run-folder.js';
import { networkSummarySchema, type NetworkSummary } from '../record/summary.js';
import { err, ok, type Result } from '../result.js';
import type { LockstepState, NetStatus, Trainee } from './lockstep.js';
import { describeChanges, withNewDefaults, type RunIdentity } from './run-identity.js';

/**
 * Checkpoints: `<run>/checkpoints/s<seed index>-<step>/` holding one `<variant>-<depth>.bin` per network (weights,
 * BN moving statistics, momentum buffers), `manifest.json` (the run's config, step, sampler and RNG state, each
 * network's running record, and each file's size and SHA-256) and `manifest.sha256` (the manifest's own SHA-256,
 * in `sha256sum -c` format). The run folder writes a checkpoint folder under a temporary name, fsynced and
 * renamed, so a folder with a final name is complete; damage or edits after that are caught by the checksums, and
 * anything a manifest names is checked against what the config implies before a file is opened.
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
  version: z.literal(2),
  /** The run's config.json as it was when the run started (see run-identity.ts). */
  config: z.record(z.string(), z.unknown()),
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
  identity: RunIdentity;
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
    version: 2,
    config: ctx.identity,
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
  const manifestBytes = new TextEncoder().encode(`${JSON.stringify(manifest)}\n`);
  contents.push({ name: 'manifest.json', data: manifestBytes });
  contents.push({ name: 'manifest.sha256', data: `${sha256(manifestBytes)}  manifest.json\n` });
  return ctx.folder.writeCheckpoint(folderName(ctx.seedIndex, state.step), contents, ctx.keep);
}

export interface LoadedCheckpoint {
  folder: string;
  manifest: CheckpointManifest;
  tensors: Map<string, Map<string, { shape: number[]; values: Float32Array }>>;
}

/** The manifest, if `manifest.sha256` vouches for it and it has the checkpoint format. */
function readManifest(folder: string): Result<CheckpointManifest, string> {
  let recorded: string;
  try {
    recorded = readFileSync(join(folder, 'manifest.sha256'), 'utf8');
  } catch {
    return err(`${folder}: manifest.sha256 is missing (damaged, or written by a resnet-exp that did not checksum manifests)`);
  }
  const expected = /^([0-9a-f]{64}) {2}manifest\.json\n?$/.exec(recorded)?.[1];
  if (!expected) return err(`${folder}: manifest.sha256 is not a SHA-256 line for manifest.json`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(join(folder, 'manifest.json'));
  } catch {
    return err(`${folder}: manifest.json is missing`);
  }
  if (sha256(bytes) !== expected) return err(`${folder}: manifest.json fails its checksum`);
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? ok(parsed.data) : err(`${folder}: manifest does not match the checkpoint format`);
  } catch (e) {
    return err(`${folder}: unreadable manifest (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** The network ids a config trains, in the order trainees are built and checkpointed. */
const networkIds = (config: Config): string[] =>
  configDepths(config).flatMap((depth) => config.model.variants.map((variant) => networkId({ variant, depth })));

const list = (names: readonly string[]): string => names.map((n) => JSON.stringify(n)).join(', ');

/**
 * Why a verified manifest can't be the run's state, or `undefined`: every name, seed and step must be the ones
 * the run's config implies, so nothing outside the folder is ever opened and no network is left unrestored.
 */
function manifestProblem(folder: string, m: CheckpointManifest, config: Config): string | undefined {
  const ids = networkIds(config);
  const names = m.files.map((f) => f.name);
  const expectedNames = ids.map((id) => `${id}.bin`);
  if (names.join('\0') !== expectedNames.join('\0')) {
    return `manifest names ${names.length ? `files ${list(names)}` : 'no files'}, expected ${list(expectedNames)}`;
  }
  const traineeIds = m.trainees.map((t) => t.id);
  if (traineeIds.join('\0') !== ids.join('\0')) return `manifest records networks [${list(traineeIds)}], expected [${list(ids)}]`;
  const seeds = configSeeds(config);
  if (m.seedIndex >= seeds.length || seeds[m.seedIndex] !== m.seed) {
    return `manifest says seed ${m.seed} at index ${m.seedIndex}; the config's seeds are ${seeds.join(', ')}`;
  }
  if (m.step > config.train.iterations) return `manifest step ${m.step} is past train.iterations (${config.train.iterations})`;
  if (folder !== folderName(m.seedIndex, m.step)) return `manifest says seed index ${m.seedIndex}, step ${m.step}, not what the folder name says`;
  if (m.sampler.step !== m.step || m.sampler.batchSize !== config.train.batchSize) return 'manifest sampler state does not match its step and batch size';
  const done = m.completed.map((c) => c.seed).join(',');
  const expectedDone = seeds.slice(0, m.seedIndex).flatMap((seed) => ids.map(() => seed)).join(',');
  if (done !== expectedDone) return 'manifest records finished seeds other than those before its own';
  return undefined;
}

const tensorEntriesSchema = z.array(
  z.object({ name: z.string(), shape: z.array(z.number().int().nonnegative()), offset: z.number().int().nonnegative(), size: z.number().int().nonnegative() }),
);

function decodeChecked(bytes: Uint8Array): Result<Map<string, { shape: number[]; values: Float32Array }>, string> {
  try {
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
    const entries = tensorEntriesSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))));
    const floats = (bytes.length - Math.ceil((4 + headerLength) / 4) * 4) / 4;
    const fits = (e: TensorEntry) => e.offset + e.size <= floats && e.shape.reduce((a, b) => a * b, 1) === e.size;
    if (!entries.success || !entries.data.every(fits)) return err('its tensor table does not match its data');
  } catch {
    return err('its tensor table is unreadable');
  }
  return ok(decodeTensors(bytes));
}

/** Each file the manifest names (already validated), checked for size and checksum, then decoded. */
function readNetworks(folder: string, manifest: CheckpointManifest): Result<LoadedCheckpoint['tensors'], string> {
  const tensors: LoadedCheckpoint['tensors'] = new Map();
  for (const file of manifest.files) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(folder, file.name));
    } catch {
      return err(`${folder}: ${file.name} is missing`);
    }
    if (bytes.length !== file.bytes) return err(`${folder}: ${file.name} has ${bytes.length} bytes, expected ${file.bytes} (truncated?)`);
    if (sha256(bytes) !== file.sha256) return err(`${folder}: ${file.name} fails its checksum`);
    const decoded = decodeChecked(bytes);
    if (!decoded.ok) return err(`${folder}: ${file.name}: ${decoded.error}`);
    tensors.set(file.name.replace(/\.bin$/, ''), decoded.value);
  }
  return ok(tensors);
}

/** What the run folder's config.json says a checkpoint must be: `readRunConfig`'s answer. */
export interface RunRecord {
  config: Config;
  identity: RunIdentity;
}

/** One checkpoint folder, verified and checked against the run; `changes` says how its config differs from config.json's. */
/** One checkpoint folder, verified (checksums, names, state) against the run's record. */
export function readCheckpoint(folder: string, run: RunRecord): Result<LoadedCheckpoint, { problem: string; changes?: string }> {
  const manifest = readManifest(folder);
  if (!manifest.ok) return err({ problem: manifest.error });
  const recorded = withNewDefaults(manifest.value.config);
  const changes = describeChanges(recorded, run.identity);
  if (changes) {
    const problem = `${folder}: its config is not config.json's: ${describeChanges(recorded, run.identity, ['checkpoint', 'config.json'])}`;
    return err({ problem, changes });
  }
  const problem = manifestProblem(basename(folder), manifest.value, run.config);
  if (problem) return err({ problem: `${folder}: ${problem}` });
  const tensors = readNetworks(folder, manifest.value);
  if (!tensors.ok) return err({ problem: tensors.error });
  return ok({ folder, manifest: manifest.value, tensors: tensors.value });
}

/**
 * The newest checkpoint that verifies and fits the run; bad newer ones (damaged, edited, naming other files) are
 * reported through `warn` and passed over. `ok(undefined)` when the run has none. An error when config.json no
 * longer matches the config that every verified checkpoint was written under: then config.json is what changed
 * (were an older checkpoint to match it, the newest one's manifest would be what was edited).
 */
export function latestCheckpoint(runDir: string, run: RunRecord, warn: (message: string) => void): Result<LoadedCheckpoint | undefined, string> {
  const problems: string[] = [];
  let changes: string | undefined;
  let found: LoadedCheckpoint | undefined;
  const root = runPaths(runDir).checkpoints;
  for (const name of checkpointFolders(root).reverse()) {
    const checkpoint = readCheckpoint(join(root, name), run);
    if (checkpoint.ok) {
      found = checkpoint.value;
      break;
    }
    problems.push(checkpoint.error.problem);
    changes ??= checkpoint.error.changes;
  }
  if (!found && changes) {
    return err(`${join(runDir, 'config.json')} was changed after the run started: ${changes}; undo the change, or start a new run with resnet-exp run`);
  }
  for (const problem of problems) warn(`${problem}; using the previous checkpoint`);
  return ok(found);
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
