import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkSlurmResources, slurmScript } from '../../src/sweep/slurm.js';
import { bin, runInProcess, withTempDir } from '../helpers/cli.js';

const base = {
  jobName: 'depths',
  count: 12,
  workdir: '/home/u/exp',
  logDir: '/home/u/exp/runs/depths',
  scriptPath: '/home/u/exp/runs/depths/slurm-array.sh',
  program: ['/usr/bin/node', '/opt/resnet-exp/bin/resnet-exp.js'],
  sweepArgs: ['sweep', '/home/u/exp/c.json', '--grid', 'seed=1,2,3', '--out', '/home/u/exp/runs/depths'],
};

const directives = (script: string): string[] => script.split('\n').filter((l) => l.startsWith('#SBATCH'));

describe('Slurm script', () => {
  it('one array task per combination, %K from --max-parallel, resources from flags', () => {
    const script = slurmScript({ ...base, maxParallel: 4, gpus: '1', time: '4:00:00', mem: '8G', cpusPerTask: 2, partition: 'gpu' });
    assert.deepEqual(directives(script), [
      '#SBATCH --job-name=depths',
      '#SBATCH --array=0-11%4',
      '#SBATCH --output=/home/u/exp/runs/depths/slurm-%A_%a.out',
      '#SBATCH --chdir=/home/u/exp',
      '#SBATCH --ntasks=1',
      '#SBATCH --cpus-per-task=2',
      '#SBATCH --gres=gpu:1',
      '#SBATCH --mem=8G',
      '#SBATCH --time=4:00:00',
      '#SBATCH --partition=gpu',
    ]);
    assert.ok(script.startsWith('#!/bin/bash\n'));
  });

  it('no %K and no resource lines when not asked for', () => {
    const script = slurmScript(base);
    assert.ok(directives(script).includes('#SBATCH --array=0-11'));
    assert.equal(directives(script).some((l) => /--(gres|mem|time|partition|cpus-per-task)=/.test(l)), false);
  });

  it('each task runs the same sweep with --index $SLURM_ARRAY_TASK_ID, quoted for the shell', () => {
    const script = slurmScript({ ...base, sweepArgs: [...base.sweepArgs, '--set', 'name=a b'] });
    const lines = script.split('\n');
    assert.ok(lines.includes("RESNET_EXP=(/usr/bin/node /opt/resnet-exp/bin/resnet-exp.js)"));
    assert.ok(
      lines.includes(
        `exec "\${RESNET_EXP[@]}" sweep /home/u/exp/c.json --grid seed=1,2,3 --out /home/u/exp/runs/depths --set 'name=a b' --index "$SLURM_ARRAY_TASK_ID"`,
      ),
      script,
    );
    // The task line as bash sees it, with the task id the array gives.
    const argv = execFileSync('bash', ['-c', `${script.replace(/^exec /m, 'printf "%s\\n" ')}`], {
      encoding: 'utf8',
      env: { ...process.env, SLURM_ARRAY_TASK_ID: '7' },
    }).trimEnd().split('\n');
    assert.deepEqual(argv.slice(-4), ['--set', 'name=a b', '--index', '7']);
  });

  it('refuses malformed resource requests', () => {
    const bad = checkSlurmResources({ maxParallel: 0, gpus: 'two', time: '4h', mem: '8 GB', cpusPerTask: 1.5, partition: 'a b' });
    assert.equal(bad.ok, false);
    const text = bad.ok ? '' : bad.error.join('\n');
    for (const flag of ['--max-parallel 0', '--gpus two', '--time 4h', '--mem 8 GB', '--cpus-per-task 1.5', '--partition a b']) {
      assert.ok(text.includes(flag), `${flag} in ${text}`);
    }
    for (const time of ['30', '30:00', '4:00:00', '1-00', '1-12:00', '2-00:00:00']) assert.ok(checkSlurmResources({ time }).ok, time);
    assert.ok(checkSlurmResources({ gpus: 'a100:2', mem: '4000M', partition: 'gpu,long' }).ok);
  });
});

describe('sweep --emit slurm', () => {
  // `{}`: all defaults (an empty file is an error, not a request for them).
  const configDir = mkdtempSync(join(tmpdir(), 'resnet-exp-slurm-'));
  const defaults = join(configDir, 'defaults.json');
  writeFileSync(defaults, '{}\n');
  after(() => rmSync(configDir, { recursive: true, force: true }));
  const tiny = [defaults, '--set', 'data.source=synthetic', '--depth', '8', '--iterations', '4', '--backend', 'wasm'];

  it('writes the script and sweep.json into the sweep folder and prints the script path', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'sweep');
      const r = await runInProcess(['sweep', ...tiny, '--grid', 'seed=1,2,3', '--out', out, '--emit', 'slurm', '--max-parallel', '2', '--time', '10', '--mem', '2G']);
      assert.equal(r.code, 0, r.stderr);
      const path = r.stdout.trim();
      assert.equal(path, join(out, 'slurm-array.sh'));
      assert.ok(statSync(path).mode & 0o100, 'executable');
      const script = readFileSync(path, 'utf8');
      assert.ok(directives(script).includes('#SBATCH --array=0-2%2'));
      assert.ok(directives(script).includes('#SBATCH --time=10'));
      assert.ok(directives(script).includes('#SBATCH --mem=2G'));
      assert.ok(script.includes(`RESNET_EXP=(${process.execPath} ${bin})`));
      assert.match(script, new RegExp(`sweep ${defaults} --grid seed=1,2,3 .*--out ${out} --index "\\$SLURM_ARRAY_TASK_ID"`));
      const sweep = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { runs: { folder: string }[] };
      assert.deepEqual(sweep.runs.map((x) => x.folder), ['000-seed=1', '001-seed=2', '002-seed=3']);
      assert.match(r.stderr, /sbatch/);
      // Nothing ran.
      assert.equal(existsSync(join(out, '000-seed=1')), false);
    });
  });

  it('--dry-run prints the script instead of writing it', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'sweep');
      const r = await runInProcess(['sweep', ...tiny, '--grid', 'seed=1,2', '--out', out, '--emit', 'slurm', '--dry-run', '--gpus', '1']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(directives(r.stdout).includes('#SBATCH --gres=gpu:1'));
      assert.equal(existsSync(out), false);
    });
  });

  it('bad Slurm flags, or Slurm flags without --emit, or --emit with --index: exit 2, nothing written', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'sweep');
      const cases: [string[], RegExp][] = [
        [['--emit', 'slurm', '--time', '4h'], /--time 4h: expected minutes/],
        [['--gpus', '1'], /--gpus is a Slurm request; it needs --emit slurm/],
        [['--emit', 'slurm', '--index', '0'], /give one of the two/],
        [['--emit', 'pbs'], /Invalid values/],
      ];
      for (const [flags, message] of cases) {
        const r = await runInProcess(['sweep', ...tiny, '--grid', 'seed=1,2', '--out', out, ...flags]);
        assert.equal(r.code, 2, flags.join(' '));
        assert.match(r.stderr, message);
        assert.equal(existsSync(out), false);
      }
    });
  });
});
