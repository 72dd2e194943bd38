import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { bin, repoRoot, runInProcess, withTempDir } from '../helpers/cli.js';

/** The smallest training: synthetic data, depth 8, a few iterations on 64 images. */
const tiny = (iterations = 4): string[] => [
  'configs/smoke.json',
  '--set', 'data.synthetic.train=64',
  '--set', 'data.synthetic.validation=32',
  '--set', 'train.batchSize=16',
  '--set', 'log.every=2',
  '--set', 'eval.every=2',
  '--depth', '8',
  '--iterations', String(iterations),
  '--backend', 'wasm',
];

interface SweepJson {
  sweep_dir: string;
  runs: { index: number; folder: string; status: string; reason?: string; summary: { status: string } | null }[];
}

const sweep = (out: string, ...flags: string[]) => runInProcess(['sweep', ...tiny(), '--out', out, '--quiet', ...flags]);
const sweepLonger = (out: string, ...flags: string[]) => runInProcess(['sweep', ...tiny(12), '--out', out, '--quiet', ...flags]);
const parseJson = (stdout: string): SweepJson => JSON.parse(stdout) as SweepJson;
const statuses = (j: SweepJson) => j.runs.map((r) => `${r.index}:${r.status}`);

describe('sweep: bad input is exit 2 before anything runs', () => {
  it('grid entries without =, with empty values, or a value invalid for its key', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'sweep');
      const cases: [string[], RegExp][] = [
        [['--grid', 'seed'], /--grid seed: expected key.path=v1,v2/],
        [['--grid', 'seed=1,,2'], /--grid seed=1,,2: value 2 is empty/],
        [['--grid', 'seed=1', '--grid', 'model.depth=20,21'], /combination 1 \(seed=1 model.depth=21\): .*model.depth: must be 6n\+2/],
        [['--grid', 'model.dept=20'], /model.dept: unknown key/],
        [['--grid', 'seed=1', '--set', 'out=x'], /use --out for the sweep folder/],
        [['--grid', 'seed=1,2', '--index', '2'], /--index 2: the sweep has 2 combinations, numbered 0 to 1/],
        [['--grid', 'seed=1,2', '--index', '-1'], /--index -1/],
        // Missing data is found before the first run, not when its combination's turn comes.
        [['--grid', 'data.source=synthetic,cifar10', '--data-dir', join(dir, 'nope')], /combination 1 \(data.source=cifar10\): no CIFAR-10 data_batch_\*.bin files in .*nope/],
        [[], /at least one --grid/],
      ];
      for (const [flags, message] of cases) {
        const r = await sweep(out, ...flags);
        assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.equal(r.stdout, '');
        assert.equal(existsSync(out), false, `${flags.join(' ')} wrote nothing`);
      }
    });
  });

  it('a folder that is not a sweep, or holds a different sweep, is refused with the reason', async () => {
    await withTempDir(async (dir) => {
      const other = join(dir, 'other');
      mkdirSync(other);
      writeFileSync(join(other, 'notes.txt'), 'mine');
      const r1 = await sweep(other, '--grid', 'seed=1,2', '--dry-run');
      assert.equal(r1.code, 2);
      assert.match(r1.stderr, /holds no sweep.json \(but notes.txt\)/);

      const out = join(dir, 'sweep');
      assert.equal((await sweep(out, '--grid', 'seed=1,2', '--emit', 'slurm')).code, 0);
      const r2 = await sweep(out, '--grid', 'seed=1,3');
      assert.equal(r2.code, 2);
      assert.match(r2.stderr, /holds a different sweep: its grid is seed=1,2, this command's is seed=1,3/);
      const r3 = await sweep(out, '--grid', 'seed=1,2', '--set', 'train.lr=0.05');
      assert.equal(r3.code, 2);
      assert.match(r3.stderr, /combination 0 \(000-seed=1\) differs: train.lr is 0.1 there, 0.05 here/);
      assert.match(r3.stderr, /rerun it with its own arguments: resnet-exp sweep .*--grid seed=1,2/);
    });
  });
});

describe('sweep: runs, reruns, --index', () => {
  it('runs every combination; a rerun skips them; a removed summary.json reruns only that one', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'sweep');
      const first = await sweep(out, '--grid', 'seed=1,2', '--json');
      assert.equal(first.code, 0, first.stderr);
      const j1 = parseJson(first.stdout);
      assert.equal(j1.sweep_dir, out);
      assert.deepEqual(statuses(j1), ['0:completed', '1:completed']);
      assert.deepEqual(j1.runs.map((r) => r.folder), [join(out, '000-seed=1'), join(out, '001-seed=2')]);
      for (const r of j1.runs) {
        assert.equal(r.summary?.status, 'completed');
        assert.equal(JSON.parse(readFileSync(join(r.folder, 'summary.json'), 'utf8')).status, 'completed');
      }
      const recorded = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as {
        grid: unknown;
        runs: { folder: string; values: unknown; config: { seed: number; out: string } }[];
        command: string[];
      };
      assert.deepEqual(recorded.grid, [{ key: 'seed', values: [1, 2] }]);
      assert.deepEqual(recorded.runs.map((r) => [r.folder, r.values, r.config.seed, r.config.out]), [
        ['000-seed=1', { seed: 1 }, 1, join(out, '000-seed=1')],
        ['001-seed=2', { seed: 2 }, 2, join(out, '001-seed=2')],
      ]);
      assert.deepEqual(recorded.command.slice(0, 2), ['resnet-exp', 'sweep']);

      const again = await sweep(out, '--grid', 'seed=1,2', '--json');
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(statuses(parseJson(again.stdout)), ['0:skipped', '1:skipped']);
      assert.equal(parseJson(again.stdout).runs[1].summary?.status, 'completed');

      // Without its summary the run is unfinished; its config and final checkpoint are there: it is resumed.
      rmSync(join(out, '001-seed=2', 'summary.json'));
      const third = await sweep(out, '--grid', 'seed=1,2', '--json');
      assert.equal(third.code, 0, third.stderr);
      assert.deepEqual(statuses(parseJson(third.stdout)), ['0:skipped', '1:completed']);
      assert.match(readFileSync(join(out, '001-seed=2', 'log.jsonl'), 'utf8'), /resuming .* from step 4/);
      assert.equal(existsSync(join(out, '.attempts')), false);
      const steps = () => readFileSync(join(out, '001-seed=2', 'metrics.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[3]);
      assert.deepEqual(steps(), ['2', '2', '4', '4']);

      // Without a checkpoint either, it starts over; the unfinished attempt is kept, out of the way.
      rmSync(join(out, '001-seed=2', 'summary.json'));
      rmSync(join(out, '001-seed=2', 'checkpoints'), { recursive: true });
      const fourth = await sweep(out, '--grid', 'seed=1,2', '--json');
      assert.equal(fourth.code, 0, fourth.stderr);
      assert.deepEqual(statuses(parseJson(fourth.stdout)), ['0:skipped', '1:completed']);
      const attempts = readdirSync(join(out, '.attempts'));
      assert.equal(attempts.length, 1);
      assert.match(attempts[0], /^001-seed=2-\d{8}T\d{6}Z$/);
      assert.ok(existsSync(join(out, '.attempts', attempts[0], 'metrics.csv')));
      assert.deepEqual(steps(), ['2', '2', '4', '4']);
    });
  });

  it('an interrupted sweep stops with exit 130; run again, it resumes the run from its checkpoint and runs the rest', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'sweep');
      const args = [bin, 'sweep', ...tiny(12), '--set', 'checkpoint.every=2', '--grid', 'seed=1,2', '--out', out, '--json'];
      const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let signalled = false;
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Once the first run has trained a few steps; once only (a second SIGINT quits at once).
        if (/seed 1 step 4:/.test(stderr) && !signalled) {
          signalled = true;
          child.kill('SIGINT');
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 130, stderr);
      assert.deepEqual(statuses(parseJson(stdout)), ['0:interrupted', '1:not-run']);

      const rerun = await sweepLonger(out, '--set', 'checkpoint.every=2', '--grid', 'seed=1,2', '--json');
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual(statuses(parseJson(rerun.stdout)), ['0:completed', '1:completed']);
      assert.match(readFileSync(join(out, '000-seed=1', 'log.jsonl'), 'utf8'), /resuming .* from step \d+/);
      // Every logged step once per network, as if never interrupted.
      const rows = readFileSync(join(out, '000-seed=1', 'metrics.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
      for (const variant of ['plain', 'residual']) {
        const steps = rows.filter((r) => r[1] === variant).map((r) => Number(r[3]));
        assert.deepEqual(steps, Array.from({ length: 6 }, (_, i) => 2 * (i + 1)), variant);
      }
    });
  });

  it('--index runs only that combination, into the shared sweep folder', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'sweep');
      const r = await sweep(out, '--grid', 'seed=1,2,3', '--index', '1', '--json');
      assert.equal(r.code, 0, r.stderr);
      const j = parseJson(r.stdout);
      assert.deepEqual(statuses(j), ['1:completed']);
      assert.equal(JSON.parse(readFileSync(join(out, '001-seed=2', 'config.json'), 'utf8')).seed, 2);
      assert.deepEqual(readdirSync(out).sort(), ['001-seed=2', 'sweep.json']);
    });
  });

  it('a combination that fails is listed (index, folder, reason) and the exit code is 1; the others still run', async () => {
    await withTempDir(async (dir) => {
      // Files that exist (so the sweep starts) but are not CIFAR-10 (so that run fails when it reads them).
      const data = join(dir, 'cifar');
      mkdirSync(data);
      writeFileSync(join(data, 'data_batch_1.bin'), Buffer.alloc(100));
      writeFileSync(join(data, 'test_batch.bin'), Buffer.alloc(100));
      const out = join(dir, 'sweep');
      const r = await sweep(out, '--grid', 'data.source=cifar10,synthetic', '--data-dir', data, '--json');
      assert.equal(r.code, 1, r.stderr);
      const j = parseJson(r.stdout);
      assert.deepEqual(statuses(j), ['0:failed', '1:completed']);
      assert.ok(j.runs[0].reason && j.runs[0].reason.length > 0);
      assert.ok(
        r.stderr.includes(`failed: combination 0 ${join(out, '000-data.source=cifar10')}: ${j.runs[0].reason}`),
        r.stderr,
      );
    });
  });
});

describe('sweep --dry-run', () => {
  it('prints one runnable `resnet-exp run` line per combination, each into its folder of the sweep', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'my sweep');
      const dry = await sweep(out, '--grid', 'seed=1,2', '--set', 'train.lr=0.05', '--dry-run');
      assert.equal(dry.code, 0, dry.stderr);
      assert.equal(existsSync(out), false, 'a dry run writes nothing');
      const lines = dry.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 2);
      for (const line of lines) assert.match(line, /^resnet-exp run /);

      // `resnet-exp` as an installed package puts it on PATH; run every line exactly as printed.
      const path = join(dir, 'path');
      mkdirSync(path);
      symlinkSync(bin, join(path, 'resnet-exp'));
      for (const line of lines) {
        await promisify(execFile)('sh', ['-c', line], { cwd: dir, env: { ...process.env, PATH: `${path}:${process.env.PATH}` } });
      }
      const folders = ['000-seed=1', '001-seed=2'];
      assert.deepEqual(readdirSync(out).sort(), folders);

      // The sweep itself then finds both done, and the configs the lines ran are the ones it planned.
      const rerun = await sweep(out, '--grid', 'seed=1,2', '--set', 'train.lr=0.05', '--json');
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual(statuses(parseJson(rerun.stdout)), ['0:skipped', '1:skipped']);
      const planned = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { runs: { config: Record<string, unknown> }[] };
      for (const [i, folder] of folders.entries()) {
        const { run: _run, ...used } = JSON.parse(readFileSync(join(out, folder, 'config.json'), 'utf8')) as Record<string, unknown>;
        assert.deepEqual(used, planned.runs[i].config);
      }
    });
  });
});
