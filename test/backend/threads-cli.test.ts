import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { loadAddon } from '../../src/backend/onednn/addon.js';
import { runCli, tinyRunArgs, withTempDir } from '../helpers/cli.js';

const addon = loadAddon();
const skip = addon.ok || process.env.CI ? false : `onednn backend unavailable: ${addon.error}`;

const onednnRun = (out: string, ...extra: string[]) => [...tinyRunArgs(out, 1).map((a) => (a === 'wasm' ? 'onednn' : a)), ...extra];
const recorded = (out: string) =>
  JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { threads?: unknown; run: { threads: { count: number; adaptive: boolean } } };

/** libgomp prints its settings at load with OMP_DISPLAY_ENV=verbose; the spin count tells the wait policy in force. */
const spinCount = (stderr: string): string | undefined => /GOMP_SPINCOUNT = '(\d+)'/.exec(stderr)?.[1];

it('onednn waits passively (OpenMP spin count 0) unless the user chose a policy; --threads beats OMP_NUM_THREADS', { skip }, async () => {
  await withTempDir(async (dir) => {
    const [ours, theirs] = await Promise.all([
      runCli(onednnRun(join(dir, 'ours'), '--threads', '1'), { env: { OMP_DISPLAY_ENV: 'verbose', OMP_NUM_THREADS: '2', OMP_WAIT_POLICY: '' } }),
      runCli(onednnRun(join(dir, 'theirs')), { env: { OMP_DISPLAY_ENV: 'verbose', OMP_NUM_THREADS: '2', OMP_WAIT_POLICY: 'active' } }),
    ]);
    assert.equal(ours.code, 0, ours.stderr);
    assert.equal(theirs.code, 0, theirs.stderr);
    if (!/OPENMP DISPLAY ENVIRONMENT/.test(ours.stderr)) return; // not libgomp: it reports its settings otherwise
    assert.equal(spinCount(ours.stderr), '0', 'PASSIVE: idle threads sleep at once');
    assert.notEqual(spinCount(theirs.stderr), '0', "the user's OMP_WAIT_POLICY=active is kept");
    assert.deepEqual(recorded(join(dir, 'ours')).run.threads, { count: 1, adaptive: false });
    assert.deepEqual(recorded(join(dir, 'theirs')).run.threads, { count: 2, adaptive: false }, 'OMP_NUM_THREADS is the default');
  });
});

it('--threads adaptive is an opt-in that config.json records (and says when it cannot be had)', { skip }, async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, 'run');
    const r = await runCli(onednnRun(out, '--threads', 'adaptive').filter((a) => a !== '--quiet'), { env: { OMP_NUM_THREADS: '2' } });
    assert.equal(r.code, 0, r.stderr);
    const config = recorded(out);
    assert.equal(config.threads, 'adaptive');
    const pinned = os.availableParallelism() !== os.cpus().length;
    assert.deepEqual(config.run.threads, { count: 2, adaptive: !pinned });
    assert.match(r.stderr, pinned ? /adaptive threads are off \(this process is pinned/ : /2 threads adapting to load \(not bit-reproducible\)/);
  });
});
