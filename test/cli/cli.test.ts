import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { exitCodeFor, ParseFailure } from '../../src/cli/command.js';
import { processIo } from '../../src/cli/io.js';
import { InputError } from '../../src/result.js';
import { bin, repoRoot, runCli, runInProcess, tinyRunArgs, withTempDir } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const oneLine = (stderr: string) => stderr.trim().split('\n');

describe('the bin (a real process)', () => {
  it('--version prints the package version; a bad flag exits 2 with one line', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${pkg.version}\n`);
    const bad = await runCli(['validate', '--bogus']);
    assert.equal(bad.code, 2);
    assert.deepEqual([bad.stdout, oneLine(bad.stderr).length], ['', 1]);
  });

  it('a reader that is gone before the results (`describe … | head`) ends nothing but the output', async () => {
    // The read end is closed in this tick, long before the child has started Node, so every write gets EPIPE.
    const child = spawn(process.execPath, [bin, 'describe', 'configs/cifar110.json', '--depth', '20,32,44,56,110'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.deepEqual([code, stderr], [0, '']);
  });
});

describe('CLI conventions', () => {
  it('--version prints the package version', async () => {
    const r = await runInProcess(['--version']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, `${pkg.version}\n`, '']);
  });

  it('--help lists the commands, exit codes, and each command has an example', async () => {
    const r = await runInProcess(['--help']);
    assert.equal(r.code, 0);
    for (const command of ['run', 'resume', 'validate', 'describe', 'doctor', 'fetch', 'plot', 'report', 'sweep', 'bench', 'serve']) {
      assert.match(r.stdout, new RegExp(`resnet-exp ${command}`));
      const sub = await runInProcess([command, '--help']);
      assert.equal(sub.code, 0, command);
      assert.match(sub.stdout, /Examples:/, `${command} --help has an example`);
    }
    assert.match(r.stdout, /130 interrupted/);
  });

  it('an unknown flag or a missing command is one line and exit 2', async () => {
    for (const args of [['run', 'configs/smoke.json', '--iteratons', '5'], []]) {
      const r = await runInProcess(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(oneLine(r.stderr).length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
  });

  it('describe --json gives params and macs per variant and depth', async () => {
    const r = await runInProcess(['describe', 'configs/cifar56.json', '--depth', '20,56', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { variant: string; depth: number; params: number; macs: number }[];
    assert.deepEqual(rows.map((x) => `${x.variant}-${x.depth}`), ['plain-20', 'residual-20', 'plain-56', 'residual-56']);
    assert.equal(Number(rows[3].params.toPrecision(2)), 0.85e6);
    assert.ok(rows[3].macs > rows[1].macs * 3);
  });

  it('describe counts ResNet-1202 at once; a depth past the limit is exit 2 naming it', async () => {
    const [big, over] = await Promise.all([
      runInProcess(['describe', '--depth', '1202', '--json', '--set', 'model.variants=["residual"]']),
      runInProcess(['describe', '--depth', '6000002']),
    ]);
    assert.equal(big.code, 0, big.stderr);
    const [row] = JSON.parse(big.stdout) as { params: number; layers: number }[];
    assert.deepEqual([Number(row.params.toPrecision(3)), row.layers], [19.4e6, 1202]);
    assert.equal(over.code, 2);
    assert.deepEqual(oneLine(over.stderr), ['resnet-exp: error: model.depth: must be at most 2000 (ResNet-1202 is the deepest CIFAR net of the paper) (got 6000002)']);
  });
});

describe('the error boundary', () => {
  const io = (env: NodeJS.ProcessEnv = {}) => {
    const sink = { text: '', write: (t: string) => (sink.text += t) };
    return { sink, io: { ...processIo(), stdout: { write: () => true }, stderr: sink, env } };
  };

  it('bad flags and bad input exit 2, one line per problem; anything else exits 1 with its first line, the stack under RESNET_EXP_DEBUG', () => {
    const parse = io();
    assert.equal(exitCodeFor(new ParseFailure('Unknown argument: x'), parse.io), 2);
    assert.equal(parse.sink.text, 'resnet-exp: error: Unknown argument: x (see resnet-exp --help)\n');
    const input = io();
    assert.equal(exitCodeFor(new InputError('a.json: seed: bad\na.json: name: bad'), input.io), 2);
    assert.equal(input.sink.text, 'resnet-exp: error: a.json: seed: bad\nresnet-exp: error: a.json: name: bad\n');
    const crash = new Error('cannot write x: EIO\nmore detail');
    const failed = io();
    assert.equal(exitCodeFor(crash, failed.io), 1);
    assert.equal(failed.sink.text, 'resnet-exp: error: cannot write x: EIO\n');
    const debug = io({ RESNET_EXP_DEBUG: '1' });
    assert.equal(exitCodeFor(crash, debug.io), 1);
    assert.match(debug.sink.text, /^resnet-exp: error: Error: cannot write x: EIO\n.*\nresnet-exp: error: +at /s);
  });
});

describe('the terminal session (in-process)', () => {
  it('the first signal stops a run after its step: checkpoint, the resume command on stderr, exit 130', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'run');
      const signals = new EventEmitter();
      let sent = false;
      const r = await runInProcess([...tinyRunArgs(out, 12)].filter((a) => a !== '--quiet'), {
        signals,
        onStderr: (text) => {
          if (!sent && /step 3:/.test(text)) {
            sent = true;
            signals.emit('signal', 'SIGINT');
          }
        },
      });
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /warning: SIGINT: stopping after the current step and writing a checkpoint/);
      assert.ok(r.stderr.includes(`warning: resume with: resnet-exp resume ${out}\n`), r.stderr);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { status: string; steps_completed: number };
      assert.equal(summary.status, 'interrupted');
      assert.ok(summary.steps_completed >= 3 && summary.steps_completed < 12, String(summary.steps_completed));
      assert.equal(signals.listenerCount('signal'), 0, 'the session stops listening when the command ends');
    });
  });
});

describe('bad data is bad input', () => {
  const runOn = (dataDir: string, out: string) =>
    runInProcess(['run', 'configs/smoke.json', '--set', 'data.source=cifar10', '--data-dir', dataDir, '--out', out, '--backend', 'wasm', '--quiet']);

  it('a missing data folder: exit 2, where it looked and how to get the data, no run folder', async () => {
    await withTempDir(async (dir) => {
      const r = await runOn(join(dir, 'nope'), join(dir, 'run'));
      assert.equal(r.code, 2);
      const [line, ...rest] = oneLine(r.stderr);
      assert.deepEqual(rest, []);
      assert.match(line, /nope.*resnet-exp fetch cifar10/);
      assert.equal(existsSync(join(dir, 'run')), false);
    });
  });

  it('a --data-dir the config does not read (synthetic data): one warning, and the run goes on', async () => {
    await withTempDir(async (dir) => {
      const r = await runInProcess(['validate', 'configs/smoke.json', '--data-dir', join(dir, 'cifar')]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, `resnet-exp: warning: --data-dir ${join(dir, 'cifar')} is not used: the config's data.source is synthetic (set data.source to read it)\n`);
      const quiet = await runInProcess(['validate', 'configs/smoke.json']);
      assert.equal(quiet.stderr, '');
    });
  });

  // A real process: where run looks for data without a --data-dir (the XDG cache, ./data) is the process's.
  it('no data anywhere: names the places searched', async () => {
    await withTempDir(async (dir) => {
      const r = await runCli(['run', join(repoRoot, 'configs/smoke.json'), '--set', 'data.source=cifar10', '--out', join(dir, 'run'), '--quiet'], {
        cwd: dir,
        env: { XDG_CACHE_HOME: join(dir, 'cache'), RESNET_EXP_DATA: '' },
      });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /no CIFAR-10 data found \(looked in .*cache.*\).*fetch cifar10/);
    });
  });

  it('a batch larger than the data folder holds: exit 2 before any run folder (it trained silently)', async () => {
    await withTempDir(async (dir) => {
      const data = join(dir, 'cifar');
      await mkdir(data);
      // smoke.json's batch is 32: ten training images cannot fill one.
      await writeFile(join(data, 'data_batch_1.bin'), new Uint8Array(3073 * 10));
      await writeFile(join(data, 'test_batch.bin'), new Uint8Array(3073 * 4));
      const r = await runOn(data, join(dir, 'run'));
      assert.equal(r.code, 2, r.stderr);
      assert.deepEqual(oneLine(r.stderr), ['resnet-exp: error: train.batchSize 32 is more than the 10 training images: a batch would hold an image twice']);
      assert.equal(existsSync(join(dir, 'run')), false);
    });
  });

  it('a corrupt batch file: exit 2 naming the file', async () => {
    await withTempDir(async (dir) => {
      const data = join(dir, 'cifar');
      await mkdir(data);
      await writeFile(join(data, 'data_batch_1.bin'), new Uint8Array(3073 * 2 + 5));
      await writeFile(join(data, 'test_batch.bin'), new Uint8Array(3073));
      const r = await runOn(data, join(dir, 'run'));
      assert.equal(r.code, 2);
      assert.equal(oneLine(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, /data_batch_1\.bin/);
    });
  });
});

const realData = join(repoRoot, '..', 'shared', 'data', 'cifar-10-batches-bin');

describe('real CIFAR-10 smoke run', { skip: existsSync(realData) ? false : `no real data at ${realData}` }, () => {
  it('trains a few steps on the real copy through RESNET_EXP_DATA', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'run');
      const r = await runInProcess(
        ['run', 'configs/smoke.json', '--set', 'data.source=cifar10', '--set', 'data.trainLimit=256', '--set', 'data.validationLimit=128',
          '--iterations', '4', '--set', 'train.batchSize=16', '--set', 'eval.every=4', '--backend', 'wasm', '--out', out, '--json', '--quiet'],
        { env: { RESNET_EXP_DATA: realData } },
      );
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as { networks: { final_test_error: number }[] };
      assert.equal(summary.networks.length, 2);
      const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { run: { trainImages: number; validationImages: number } };
      assert.equal(config.run.trainImages, 256);
      assert.equal(config.run.validationImages, 128);
    });
  });
});
