import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { pino } from 'pino';
import { chooseBackend } from '../../src/backend/select.js';
import { configSchema, type Config, type ConfigInput } from '../../src/config/schema.js';
import { CIFAR10_GEOMETRY, syntheticCifar } from '../../src/data/index.js';
import { buildNetwork, type Network } from '../../src/models/index.js';
import type { DiagnosticsRow } from '../../src/record/diagnostics-csv.js';
import { RunFolder } from '../../src/record/run-folder.js';
import { diagnosticsHook, layerIndices, openDiagnostics, responseStds } from '../../src/train/diagnostics.js';
import { buildTrainees, trainLockstep } from '../../src/train/lockstep.js';
import { runIdentity } from '../../src/train/run-identity.js';
import { trainSeeds } from '../../src/train/run.js';
import type { Batch } from '../../src/train/step.js';
import { withTempDir } from '../helpers/cli.js';

before(async () => {
  const chosen = await chooseBackend('wasm');
  assert.ok(chosen.ok, chosen.ok ? '' : chosen.error);
});

after(() => tf.disposeVariables());

const silent = pino({ level: 'silent' });

const tinyConfig = (extra: ConfigInput = {}): Config =>
  configSchema.parse({
    data: { source: 'synthetic', synthetic: { train: 64, validation: 40 } },
    model: { depth: 8, width: 4, variants: ['plain', 'residual', 'preact'] },
    train: { batchSize: 16, iterations: 4 },
    log: { every: 2 },
    eval: { every: 4 },
    checkpoint: { every: 100 },
    ...extra,
  });

/** The cross-entropy gradient of every kernel, straight from tf.variableGrads, averaged over `slices` equal slices. */
function directKernelNorms(net: Network, batch: Batch, slices = 1): Map<string, number> {
  const kernels = net.params.all().filter((p) => p.role === 'kernel');
  const size = batch.x.shape[0] / slices;
  const sums = new Map<string, tf.Tensor>();
  tf.tidy(() => {
    for (let s = 0; s < slices; s++) {
      const x = tf.slice(batch.x, [s * size, 0, 0, 0], [size, -1, -1, -1]);
      const y = tf.slice(batch.y, [s * size], [size]);
      let stats: { mean: tf.Tensor; variance: tf.Tensor }[] = [];
      const { grads } = tf.variableGrads(() => {
        const out = net.forward(x, 'train');
        stats = out.batchStats;
        return tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), out.logits) as tf.Scalar;
      }, kernels.map((p) => p.variable));
      for (const st of stats) tf.dispose([st.mean, st.variance]);
      for (const p of kernels) {
        const g = grads[p.variable.name];
        const prev = sums.get(p.name);
        sums.set(p.name, prev ? tf.add(prev, g) : g);
      }
    }
    for (const [name, g] of sums) sums.set(name, tf.keep(tf.norm(tf.div(g, slices))));
  });
  const norms = new Map([...sums].map(([name, n]) => [name.replace(/\.kernel$/, ''), n.dataSync()[0]]));
  tf.dispose([...sums.values()]);
  return norms;
}

const snapshot = (net: Network): Map<string, number[]> => new Map(net.params.all().map((p) => [p.name, Array.from(p.variable.dataSync())]));

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what}: recorded ${a}, direct ${b}`);

describe('diagnostics', () => {
  for (const microBatch of [undefined, 8]) {
    it(`records the gradient norms tf.variableGrads gives on the step's batch, changing nothing${microBatch ? ' (micro-batches)' : ''}`, async () => {
      const config = tinyConfig({ train: { batchSize: 16, iterations: 4, microBatch }, diagnostics: { every: 2, batch: 40 } });
      const data = syntheticCifar(config.seed, config.data.synthetic);
      const recorded: DiagnosticsRow[] = [];
      const hook = diagnosticsHook({ config, ...data, write: (rows) => recorded.push(...rows) }, config.seed);
      assert.ok(hook);
      let checked = 0;
      const trainees = buildTrainees(config, CIFAR10_GEOMETRY);
      await trainLockstep(
        {
          config,
          ...data,
          log: silent,
          onRows: () => {},
          onRowPoint: (state, batch) => {
            const before = state.trainees.map((t) => snapshot(t.net));
            const from = recorded.length;
            hook(state, batch);
            state.trainees.forEach((t, i) => {
              assert.deepEqual(snapshot(t.net), before[i], `${t.net.id}: diagnostics changed weights or BN moving statistics`);
              const direct = directKernelNorms(t.net, batch, microBatch ? 16 / microBatch : 1);
              const rows = recorded.slice(from).filter((r) => r.kind === 'grad_norm' && r.variant === t.net.spec.variant && r.step === state.step);
              assert.deepEqual(rows.map((r) => r.layer).sort(), [...direct.keys()].sort());
              for (const r of rows) close(r.value, direct.get(r.layer)!, `${t.net.id} step ${state.step} ${r.layer}`);
              checked += rows.length;
            });
          },
        },
        trainees,
      );
      // Steps 2 and 4, three networks of 8 weighted layers each.
      assert.equal(checked, 2 * 3 * 8);
      for (const t of trainees) {
        t.net.params.dispose();
        t.sgd.dispose();
      }
    });
  }

  it('measures one response per 3x3 layer, numbered as the paper counts depth', () => {
    // 40 images: two chunks of the moment merge.
    const x = tf.randomNormal([40, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    for (const variant of ['plain', 'residual', 'preact'] as const) {
      for (const [depth, shortcut] of [[8, 'A'], [14, 'B']] as const) {
        const net = buildNetwork({ variant, depth, width: 4, shortcut }, 2);
        const threeByThree = net.params.all().filter((p) => p.role === 'kernel' && p.variable.shape[0] === 3).map((p) => p.name.replace(/\.kernel$/, ''));
        assert.equal(threeByThree.length, depth - 1, `${net.id}: 3x3 layers in the model`);
        const stds = responseStds(net, x);
        assert.deepEqual(stds.map((s) => s.layer), threeByThree, net.id);
        const indices = layerIndices(net);
        assert.deepEqual(threeByThree.map((l) => indices.get(l)), threeByThree.map((_, i) => i + 1));
        assert.equal(indices.get('classifier'), depth);
        if (shortcut === 'B' && variant !== 'plain') assert.ok(net.params.all().some((p) => p.name.includes('shortcut.conv')) && ![...indices.keys()].some((l) => l.includes('shortcut')));

        // The stem directly: after its BN (inference mode) for plain/residual, the raw conv for preact.
        const stem = tf.tidy(() => {
          const kernel = net.params.get('stem.conv.kernel')!.variable as tf.Variable<tf.Rank.R4>;
          const conv = tf.conv2d(x, kernel, 1, 'same');
          const v = (name: string) => net.params.get(`stem.bn.${name}`)!.variable as tf.Tensor1D;
          const y = variant === 'preact' ? conv : tf.batchNorm4d(conv, v('movingMean'), v('movingVariance'), v('shift'), v('scale'), 1e-5);
          return Math.sqrt(tf.moments(y).variance.dataSync()[0]);
        });
        close(stds[0].value, stem, `${net.id} stem`);
        net.params.dispose();
      }
    }
    x.dispose();
  });

  it('is off by default: no hook, no diagnostics.csv, and not one extra kernel in a whole run', async () => {
    await withTempDir(async (dir) => {
      const off = tinyConfig({ model: { depth: 8, width: 4, variants: ['plain', 'residual'] } });
      const data = syntheticCifar(off.seed, off.data.synthetic);
      assert.equal(off.diagnostics.every, undefined);
      assert.equal(openDiagnostics({ folder: { diagnostics: () => assert.fail('opened diagnostics.csv') }, config: off, ...data }), undefined);
      assert.equal(diagnosticsHook({ config: off, ...data, write: () => assert.fail('wrote rows') }, 1), undefined);
      assert.ok(!existsSync(join(dir, 'diagnostics.csv')));

      // Kernels run by the whole training path (run.ts wiring included) against the bare lockstep loop,
      // which has no diagnostics: equal when off; more when on, so the count can see diagnostic work.
      const kernels = async (body: () => Promise<unknown>) => (await tf.profile(async () => void (await body()))).kernels.length;
      const bare = await kernels(() => trainLockstep({ config: off, ...data, log: silent, onRows: () => {} }).then((r) => r.trainees.forEach((t) => t.net.params.dispose())));
      const viaRun = async (config: Config, runDir: string) => {
        const folder = RunFolder.create(runDir);
        try {
          return await kernels(() => trainSeeds({ config, folder, backend: 'wasm', data: { ...data, source: [], input: CIFAR10_GEOMETRY }, req: { log: silent }, identity: runIdentity(config, undefined) }));
        } finally {
          folder.release();
        }
      };
      const offRun = await viaRun(off, join(dir, 'off'));
      assert.equal(offRun, bare, 'diagnostics off: the run executed kernels the bare training loop does not');
      assert.ok(!existsSync(join(dir, 'off', 'diagnostics.csv')));
      const onRun = await viaRun({ ...off, diagnostics: { every: 2, batch: 16 } }, join(dir, 'on'));
      assert.ok(onRun > bare, `diagnostics on: ${onRun} kernels, bare ${bare}`);
      const lines = readFileSync(join(dir, 'on', 'diagnostics.csv'), 'utf8').trim().split('\n');
      // Steps 2 and 4, two networks, 8 gradient norms and 7 responses each.
      assert.equal(lines.length, 1 + 2 * 2 * (8 + 7));
    });
  });
});
