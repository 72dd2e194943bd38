import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { bin, repoRoot, runInProcess, withTempDir } from '../helpers/cli.js';

const args = (out: string) => [
  'run', 'configs/smoke.json',
  '--set', 'data.synthetic.train=64', '--set', 'data.synthetic.validation=32', '--set', 'train.batchSize=16',
  '--set', 'log.every=2', '--set', 'eval.every=4', '--set', 'checkpoint.every=3', '--set', 'model.width=4',
  // dropout-shortcut draws a mask every step: a resumed run must draw the uninterrupted run's.
  '--set', 'model.variants=["plain","residual","dropout-shortcut"]',
  '--iterations', '12', '--depth', '8', '--backend', 'wasm', '--out', out, '--quiet',
];

/** metrics.csv without the timing columns, which are the only ones allowed to differ. */
const curves = (dir: string) =>
  readFileSync(join(dir, 'metrics.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(',').filter((_, i) => i !== 10 && i !== 11).join(','));

const lastCheckpoint = (dir: string) => readdirSync(join(dir, 'checkpoints')).filter((n) => n.startsWith('s')).sort().at(-1)!;
const finalWeights = (dir: string) => {
  const folder = join(dir, 'checkpoints', lastCheckpoint(dir));
  const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as { step: number; files: { name: string; sha256: string }[] };
  return { step: manifest.step, files: manifest.files };
};
const rowsIn = (dir: string) => (existsSync(join(dir, 'metrics.csv')) ? readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').length - 1 : 0);

/** Starts a run, waits until it has written `rows` CSV rows, then sends `signal`. */
async function interruptedRun(out: string, rows: number, signal: NodeJS.Signals): Promise<number | null> {
  const child = spawn(process.execPath, [bin, ...args(out)], { cwd: repoRoot, stdio: 'ignore' });
  const closed = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  while (rowsIn(out) < rows && child.exitCode === null) await sleep(50);
  child.kill(signal);
  return closed;
}

describe('checkpoints and resume (wasm)', () => {
  it('SIGINT stops with a checkpoint and exit 130; resume finishes exactly as the uninterrupted run', async () => {
    await withTempDir(async (dir) => {
      const whole = join(dir, 'whole');
      assert.equal((await runInProcess(args(whole))).code, 0);
      const cut = join(dir, 'cut');
      assert.equal(await interruptedRun(cut, 4, 'SIGINT'), 130);
      const summary = JSON.parse(readFileSync(join(cut, 'summary.json'), 'utf8')) as { status: string };
      assert.equal(summary.status, 'interrupted');
      assert.ok(finalWeights(cut).step < 12);
      const resumed = await runInProcess(['resume', cut, '--quiet']);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual(curves(cut), curves(whole));
      assert.deepEqual(finalWeights(cut), finalWeights(whole));
    });
  });

  it('after SIGKILL, resume drops rows past the checkpoint and still ends equal', async () => {
    await withTempDir(async (dir) => {
      const whole = join(dir, 'whole');
      assert.equal((await runInProcess(args(whole))).code, 0);
      const killed = join(dir, 'killed');
      await interruptedRun(killed, 8, 'SIGKILL');
      assert.equal(existsSync(join(killed, 'summary.json')), false);
      const resumed = await runInProcess(['resume', killed, '--quiet']);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual(curves(killed), curves(whole));
      assert.deepEqual(finalWeights(killed), finalWeights(whole));
    });
  });

  it('a corrupt newest checkpoint is detected and the previous one used, with a warning', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'run');
      assert.equal((await runInProcess(args(out))).code, 0);
      const reference = curves(out);
      const newest = join(out, 'checkpoints', lastCheckpoint(out));
      const file = join(newest, readdirSync(newest).find((n) => n.endsWith('.bin'))!);
      const bytes = readFileSync(file);
      bytes[bytes.length - 1] ^= 0xff;
      writeFileSync(file, bytes);
      // resume leaves a completed run alone; without its summary.json this is a run killed after its last checkpoint.
      rmSync(join(out, 'summary.json'));
      const resumed = await runInProcess(['resume', out]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /fails its checksum; using the previous checkpoint/);
      assert.deepEqual(curves(out), reference);
    });
  });

  it('resume of a folder without checkpoints or config is bad input', async () => {
    await withTempDir(async (dir) => {
      const r = await runInProcess(['resume', dir]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /not a run folder/);
    });
  });
});
