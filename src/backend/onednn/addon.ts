import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { err, ok, type Result } from '../../result.js';

/**
 * The oneDNN N-API addon (native/onednn). Every call works in place on the Float32Arrays it is given and
 * throws (TypeError) when a buffer's length does not match the geometry, so a shape bug cannot corrupt memory.
 * Conv geometry: n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, padTop, padLeft, padBottom, padRight.
 */
export interface OnednnAddon {
  convForward(x: Float32Array, filter: Float32Array, y: Float32Array, ...geometry: number[]): void;
  convBackwardData(dy: Float32Array, filter: Float32Array, dx: Float32Array, ...geometry: number[]): void;
  convBackwardWeights(x: Float32Array, dy: Float32Array, dFilter: Float32Array, ...geometry: number[]): void;
  /**
   * Training batch norm fused with an optional residual addition and ReLU (native/onednn/src/bnact.h):
   * y = act(BN(x) [+ residual]) over `rows` = N·H·W rows of `c` channels; mean and biased variance out.
   */
  bnActForward(
    x: Float32Array, scale: Float32Array, shift: Float32Array, residual: Float32Array | null,
    y: Float32Array, mean: Float32Array, variance: Float32Array,
    rows: number, c: number, epsilon: number, relu: boolean,
  ): void;
  /** Its full gradient; y (the forward's output) is needed with relu, dResidual with a residual. */
  bnActBackward(
    dy: Float32Array, x: Float32Array, y: Float32Array | null, scale: Float32Array, mean: Float32Array, variance: Float32Array,
    dx: Float32Array, dScale: Float32Array, dShift: Float32Array, dResidual: Float32Array | null,
    rows: number, c: number, epsilon: number, relu: boolean,
  ): void;
  /** One SGD-with-momentum update (src/ops/sgd-momentum.ts) into wOut and vOut; all buffers one length. */
  sgdMomentum(w: Float32Array, v: Float32Array, g: Float32Array, wOut: Float32Array, vOut: Float32Array, lr: number, momentum: number, weightDecay: number): void;
  /** Batch norm's moving statistics after a batch (src/ops/moving-average.ts) into meanOut and varianceOut. */
  movingAverages(
    movingMean: Float32Array, movingVariance: Float32Array, mean: Float32Array, variance: Float32Array,
    meanOut: Float32Array, varianceOut: Float32Array, momentum: number, correction: number,
  ): void;
  relu(x: Float32Array, y: Float32Array): void;
  reluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  step(x: Float32Array, y: Float32Array, alpha: number): void;
  /**
   * out = a (op) b with broadcasting: `levels` holds (size, strideA, strideB) triples, outer to inner, covering
   * out (contiguous); a stride is 0 where that operand is broadcast. op: 0 add, 1 sub, 2 mul, 3 div.
   */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, levels: Int32Array): void;
  /** out[o, i] = scale · Σ_r x[o, r, i], x viewed as [outer, reduce, inner]. */
  reduce(x: Float32Array, out: Float32Array, outer: number, reduce: number, inner: number, scale: number): void;
  addN(inputs: Float32Array[], out: Float32Array): void;
  /**
   * y[r, c] = x[r, c] · a[c] + b[c] (+ residual[r, c]) (then ReLU), channels = a.length: inference batch norm
   * with folded statistics and what follows it in a block, rounded as the separate ops round.
   */
  affine(x: Float32Array, a: Float32Array, b: Float32Array, y: Float32Array, residual: Float32Array | null, relu: boolean): void;
  /** OpenMP threads oneDNN runs on (OMP_NUM_THREADS, else all cores). */
  numThreads(): number;
  /** Runs on n threads from now on (rebuilds cached primitives). */
  setNumThreads(n: number): void;
  /** Calls into the addon since it loaded (this one included): JS ↔ native crossings, for benchmarks. */
  calls(): number;
  /** The oneDNN library version loaded, e.g. "2.6.3". */
  version(): string;
}

const ADDON_RELATIVE = join('native', 'onednn', 'build', 'Release', 'onednn.node');
const STATUS_RELATIVE = join('native', 'onednn', 'build', 'unavailable.txt');
const FUNCTIONS = [
  'convForward', 'convBackwardData', 'convBackwardWeights', 'bnActForward', 'bnActBackward', 'sgdMomentum', 'movingAverages',
  'relu', 'reluGrad', 'step', 'binary', 'reduce', 'addN', 'affine', 'numThreads', 'setNumThreads', 'calls', 'version',
] as const;

/** The package folder holding this module (src/ or dist/src/ below it), found by walking up to package.json. */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The addon path: RESNET_EXP_ONEDNN_ADDON, else the package's build output when it exists. */
export function addonPath(): string | undefined {
  const override = process.env.RESNET_EXP_ONEDNN_ADDON;
  if (override) return override;
  const root = packageRoot();
  const candidate = root === undefined ? undefined : join(root, ADDON_RELATIVE);
  return candidate !== undefined && existsSync(candidate) ? candidate : undefined;
}

/**
 * Why the addon is not built: the line scripts/build-native.mjs printed at install time ("<why>; <what to run>"),
 * which it also leaves in native/onednn/build/unavailable.txt, so doctor repeats it word for word.
 */
function notBuiltReason(): string {
  const root = packageRoot();
  const status = root === undefined ? undefined : join(root, STATUS_RELATIVE);
  const line = status !== undefined && existsSync(status) ? readFileSync(status, 'utf8').trim().split('\n')[0] : '';
  return line || `${ADDON_RELATIVE} missing; run: npm run build:native`;
}

function isAddon(value: unknown): value is OnednnAddon {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return FUNCTIONS.every((name) => typeof record[name] === 'function');
}

let cached: Result<OnednnAddon, string> | undefined;

/** Loads the addon once; the error is a one-line reason fit for a CLI message or a skipped test. */
export function loadAddon(): Result<OnednnAddon, string> {
  if (cached) return cached;
  cached = load();
  return cached;
}

let waitPolicy = 'PASSIVE';

/** OpenMP's wait policy in this process: the user's OMP_WAIT_POLICY, else PASSIVE (ours). */
export function ompWaitPolicy(): string {
  return waitPolicy;
}

/**
 * Loads the addon with OpenMP's passive wait policy unless the user chose one. OpenMP's default spin-waiting
 * keeps idle threads busy between parallel sections; when another process holds a core, the thread that needs it
 * is descheduled behind our spinning one, and a 2-thread step on a 2-core machine ran 3.4x slower. libgomp reads
 * its environment once, when the addon's dlopen loads it, and Node's process.env assignment is a real setenv: set
 * it just before, and put the environment back after, so child processes see the user's own.
 */
function requireWithWaitPolicy(path: string): unknown {
  const userPolicy = process.env.OMP_WAIT_POLICY;
  if (userPolicy) {
    waitPolicy = userPolicy;
    return createRequire(import.meta.url)(path);
  }
  process.env.OMP_WAIT_POLICY = waitPolicy;
  try {
    return createRequire(import.meta.url)(path);
  } finally {
    if (userPolicy === undefined) delete process.env.OMP_WAIT_POLICY;
    else process.env.OMP_WAIT_POLICY = userPolicy;
  }
}

function load(): Result<OnednnAddon, string> {
  const path = addonPath();
  if (!path) return err(`the oneDNN addon is not built: ${notBuiltReason()}`);
  let loaded: unknown;
  try {
    loaded = requireWithWaitPolicy(path);
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return err(`the oneDNN addon at ${path} failed to load: ${message}; run: npm run build:native`);
  }
  if (!isAddon(loaded)) return err(`${path} is not the resnet-exp oneDNN addon (missing functions; rebuild it with npm run build:native)`);
  return ok(loaded);
}
