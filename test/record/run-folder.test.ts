import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { pino } from 'pino';
import { chooseBackend } from '../../src/backend/select.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/cli/ui/logger.js';
import { resumeExperiment } from '../../src/train/resume.js';
import { runExperiment } from '../../src/train/run.js';
import { withTempDir } from '../helpers/cli.js';

/**
 * The run folder as a user's files meet it: what `run`, `run --force` and `resume` may touch. Through the library
 * (in-process); the CLI maps the InputError thrown here to exit 2.
 */

before(async () => {
  const chosen = await chooseBackend('wasm');
  assert.ok(chosen.ok, chosen.ok ? '' : chosen.error);
});
after(() => tf.disposeVariables());

const silent = pino({ level: 'silent' });
/** The CLI's logger, quiet on a stderr that goes nowhere: log.jsonl written as a real run writes it. */
const fileLogger = () => createLogger({ quiet: true, stderr: { write: () => true } as unknown as NodeJS.WritableStream });

const tiny = (out: string, iterations = 4): Config =>
  configSchema.parse({
    name: 'tiny',
    data: { source: 'synthetic', synthetic: { train: 64, validation: 32 } },
    model: { depth: 8, width: 2, variants: ['plain', 'residual'] },
    train: { batchSize: 16, iterations },
    log: { every: 1 },
    eval: { every: 2 },
    checkpoint: { every: 2 },
    backend: 'wasm',
    out,
  });

/** A run stopped (as by a signal) after `steps` steps: it leaves a checkpoint at that step. */
const stoppedRun = (out: string, steps: number, logger = fileLogger()) => {
  let seen = 0;
  const done = runExperiment({ config: tiny(out, 6), log: logger.log, logToFile: logger.addFile, onStep: () => void seen++, shouldStop: () => seen >= steps });
  return done.finally(() => logger.flush());
};

const inputError = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof Error && e.name === 'InputError', `expected an InputError, got ${String(e)}`);
  assert.match(e.message, pattern);
  assert.equal(e.message.split('\n').length, 1, 'one line');
  return true;
};

/** Every file under `dir` with its content, for "nothing changed" checks. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else files.set(rel, readFileSync(join(dir, rel), 'utf8'));
    }
  };
  walk('');
  return files;
}

/** A pid no process has (one that just exited), for temp files "left by a dead process". */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

const csvRows = (dir: string) => readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').slice(1);

describe('run folder: user files are never overwritten or deleted', () => {
  it('a folder holding files named like a run but no run marker is refused, and nothing in it changes', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'mine');
      mkdirSync(out);
      writeFileSync(join(out, 'metrics.csv'), 'my,own\n1,2\n');
      writeFileSync(join(out, 'summary.json'), '{"mine": true}\n');
      const before = snapshot(out);
      await assert.rejects(runExperiment({ config: tiny(out), log: silent }), inputError(/not a resnet-exp run folder.*metrics\.csv/));
      assert.deepEqual(snapshot(out), before);
    });
  });

  it('--force refuses a folder that is not a run and deletes nothing (a user config.json and checkpoints/)', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'mine');
      mkdirSync(join(out, 'checkpoints', 'precious'), { recursive: true });
      writeFileSync(join(out, 'config.json'), '{"mine": true}\n');
      writeFileSync(join(out, 'checkpoints', 'precious', 'weights.bin'), 'do not delete');
      const before = snapshot(out);
      await assert.rejects(runExperiment({ config: tiny(out), force: true, log: silent }), inputError(/not a resnet-exp run folder/));
      assert.deepEqual(snapshot(out), before);
    });
  });

  it('a folder with only unrelated files is used for the run, and they are kept', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'notes');
      mkdirSync(out);
      writeFileSync(join(out, 'notes.txt'), 'my notes');
      const summary = await runExperiment({ config: tiny(out, 2), log: silent });
      assert.equal(summary.status, 'completed');
      assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'my notes');
    });
  });

  it('--force on a run folder removes only what resnet-exp wrote; a second run without it is refused', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'run');
      await runExperiment({ config: tiny(out, 2), log: silent });
      writeFileSync(join(out, 'notes.txt'), 'my notes');
      mkdirSync(join(out, 'checkpoints', 'mine'));
      writeFileSync(join(out, 'checkpoints', 'mine', 'keep.txt'), 'mine');
      await assert.rejects(runExperiment({ config: tiny(out, 2), log: silent }), inputError(/already holds a run.*--force/));
      await runExperiment({ config: tiny(out, 4), force: true, log: silent });
      assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'my notes');
      assert.equal(readFileSync(join(out, 'checkpoints', 'mine', 'keep.txt'), 'utf8'), 'mine');
      // The new run's rows only: 4 steps, 2 networks.
      assert.equal(csvRows(out).length, 8);
      assert.deepEqual(readdirSync(join(out, 'checkpoints')).filter((n) => n.startsWith('s')).sort(), ['s0-000000002', 's0-000000004']);
    });
  });
});

describe('resume: what it leaves as it was', () => {
  it('resuming a completed run says so and changes nothing (summary.json keeps its wall_seconds)', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'done');
      await runExperiment({ config: tiny(out, 2), log: silent });
      const before = snapshot(out);
      const summary = await resumeExperiment({ runDir: out, log: silent });
      assert.equal(summary.status, 'completed');
      assert.deepEqual(snapshot(out), before);
    });
  });

  it('a torn last line of log.jsonl is ended before resume appends, so every later record is whole', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'torn');
      await stoppedRun(out, 2);
      const log = join(out, 'log.jsonl');
      const whole = readFileSync(log, 'utf8');
      const cut = whole.length - 15;
      truncateSync(log, cut);
      const logger = fileLogger();
      const summary = await resumeExperiment({ runDir: out, log: logger.log, logToFile: logger.addFile });
      logger.flush();
      assert.equal(summary.status, 'completed');
      // The cut line stays as it was, ended; the resume's records follow on lines of their own, each whole.
      const text = readFileSync(log, 'utf8');
      const prefix = whole.slice(0, cut);
      assert.ok(text.startsWith(`${prefix}\n`), `the record after the cut was glued onto it: ${text.slice(cut - 40, cut + 60)}`);
      const added = text.slice(prefix.length + 1).split('\n').filter((l) => l !== '');
      assert.ok(added.some((l) => /resuming/.test(l)));
      for (const line of added) assert.doesNotThrow(() => JSON.parse(line), line);
    });
  });

  it('stale temp files of dead processes are removed at resume; a live process\'s temps and user files are kept', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'temps');
      await stoppedRun(out, 2);
      const dead = deadPid();
      const live = process.ppid;
      const stale = [join('checkpoints', `.tmp-${dead}-s0-000000004`), `metrics.csv.tmp-${dead}`, `summary.json.tmp-${dead}`];
      const kept = [join('checkpoints', `.tmp-${live}-s0-000000004`), `metrics.csv.tmp-${live}`, 'metrics.csv.tmp-mine', join('checkpoints', '.tmp-notes')];
      for (const name of [...stale, ...kept]) {
        if (name.startsWith('checkpoints')) {
          mkdirSync(join(out, name));
          writeFileSync(join(out, name, 'plain-8.bin'), 'partial');
        } else {
          writeFileSync(join(out, name), 'partial');
        }
      }
      await resumeExperiment({ runDir: out, log: silent });
      for (const name of stale) assert.ok(!existsSync(join(out, name)), `${name} should be gone`);
      for (const name of kept) assert.ok(existsSync(join(out, name)), `${name} should be kept`);
    });
  });
});
