import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, withTempDir } from '../test/helpers/cli.js';
import { arrayTasks, startLocalCluster, waitForJob, type LocalCluster } from './cluster.js';

/**
 * `sweep --emit slurm` against a real Slurm: a private one-node cluster on localhost. Where Slurm can't be
 * started the test is skipped with the reason, which is also written to $RESNET_EXP_SLURM_UNAVAILABLE_FILE
 * so that scripts/slurm-test.sh can tell "not available here" from a failure.
 */
let cluster: LocalCluster | undefined;
let unavailable = '';

before(async () => {
  const started = await startLocalCluster();
  if (started.ok) cluster = started.value;
  else {
    unavailable = started.error;
    const file = process.env.RESNET_EXP_SLURM_UNAVAILABLE_FILE;
    if (file) writeFileSync(file, `${unavailable}\n`);
  }
});

after(async () => {
  await cluster?.stop();
});

const TINY = [
  'configs/smoke.json',
  '--set', 'data.synthetic.train=64',
  '--set', 'data.synthetic.validation=32',
  '--set', 'train.batchSize=16',
  '--set', 'log.every=2',
  '--set', 'eval.every=2',
  '--depth', '8',
  '--iterations', '4',
  '--backend', 'wasm',
];

function submit(c: LocalCluster, script: string): string {
  const r = spawnSync('sbatch', ['--parsable', script], { env: c.env, encoding: 'utf8' });
  assert.equal(r.status, 0, `sbatch: ${r.stderr}`);
  return r.stdout.trim().split(';')[0];
}

describe('sweep on Slurm', () => {
  it('a job array runs every combination once; resubmitted, every task finds its run done', { timeout: 15 * 60_000 }, async (t) => {
    if (!cluster) {
      t.skip(`Slurm not available here: ${unavailable.split('\n')[0]}`);
      return;
    }
    const c = cluster;
    await withTempDir(async (dir) => {
      const out = join(dir, 'sweep');
      const emitted = await runCli([
        'sweep', ...TINY, '--grid', 'seed=1,2,3', '--out', out,
        '--emit', 'slurm', '--max-parallel', '2', '--time', '10', '--mem', '500M', '--cpus-per-task', '1', '--partition', c.partition,
      ]);
      assert.equal(emitted.code, 0, emitted.stderr);
      const script = emitted.stdout.trim();

      const job = submit(c, script);
      assert.ok(await waitForJob(c, job, 12 * 60_000), `job ${job} did not finish\n${c.logs()}`);
      const tasks = arrayTasks(c, job);
      const slurmOut = (task: number) => readFileSync(join(out, `slurm-${job}_${task}.out`), 'utf8');
      assert.deepEqual(
        tasks.map((x) => `${x.task} ${x.state} ${x.exitCode}`),
        ['0 COMPLETED 0:0', '1 COMPLETED 0:0', '2 COMPLETED 0:0'],
        tasks.map((x) => `--- task ${x.task}\n${slurmOut(x.task)}`).join('\n'),
      );
      assert.ok(tasks.every((x) => x.throttle === '2'), 'the array runs at most --max-parallel tasks at once');

      const sweep = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { runs: { folder: string; config: { seed: number } }[] };
      assert.deepEqual(sweep.runs.map((r) => r.folder), ['000-seed=1', '001-seed=2', '002-seed=3']);
      for (const [i, run] of sweep.runs.entries()) {
        const summary = JSON.parse(readFileSync(join(out, run.folder, 'summary.json'), 'utf8')) as { status: string };
        assert.equal(summary.status, 'completed', run.folder);
        const used = JSON.parse(readFileSync(join(out, run.folder, 'config.json'), 'utf8')) as { seed: number };
        assert.equal(used.seed, run.config.seed);
        assert.match(slurmOut(i), new RegExp(`combination ${i} \\(seed=${i + 1}\\): completed`));
      }

      const again = submit(c, script);
      assert.ok(await waitForJob(c, again, 5 * 60_000), `job ${again} did not finish\n${c.logs()}`);
      assert.deepEqual(arrayTasks(c, again).map((x) => `${x.task} ${x.state} ${x.exitCode}`), ['0 COMPLETED 0:0', '1 COMPLETED 0:0', '2 COMPLETED 0:0']);
      for (const i of [0, 1, 2]) {
        assert.match(readFileSync(join(out, `slurm-${again}_${i}.out`), 'utf8'), new RegExp(`combination ${i} \\(seed=${i + 1}\\): already completed`));
      }
    });
  });
});
