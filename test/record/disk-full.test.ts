import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../../src/backend/select.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { appendWhole, nodeFileOps, WriteError, writeFileAtomic, type FileOps } from '../../src/record/durable.js';
import { createLogger } from '../../src/cli/ui/logger.js';
import { readCheckpoint } from '../../src/train/checkpoint.js';
import { readRunConfig } from '../../src/train/resume.js';
import { resumeExperiment } from '../../src/train/resume.js';
import { runExperiment } from '../../src/train/run.js';
import { withTempDir } from '../helpers/cli.js';

/**
 * A disk that fills up, through the run folder's file operations: every file a run writes fails in turn, and
 * each time the run must stop with a WriteError naming that file, leave no temporary file, keep its checkpoints
 * whole, and resume to exactly the curves of a run that never failed.
 */

before(async () => {
  const chosen = await chooseBackend('wasm');
  assert.ok(chosen.ok, chosen.ok ? '' : chosen.error);
});
after(() => tf.disposeVariables());

const ENOSPC = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

/**
 * node:fs, except that writes to files `target` picks fail once `allowed` of them went through: the first
 * failing write gets half its bytes onto the disk (as a filling disk does), every later one none.
 */
function fillingDisk(target: (name: string) => boolean, allowed: number): FileOps & { failed(): boolean } {
  const open = new Map<number, string>();
  let writes = 0;
  return {
    ...nodeFileOps,
    openSync(path, flags) {
      const fd = nodeFileOps.openSync(path, flags);
      open.set(fd, path);
      return fd;
    },
    closeSync(fd) {
      open.delete(fd);
      nodeFileOps.closeSync(fd);
    },
    writeSync(fd, data, offset, length) {
      const path = open.get(fd);
      if (path === undefined || !target(basename(path))) return nodeFileOps.writeSync(fd, data, offset, length);
      writes++;
      if (writes <= allowed) return nodeFileOps.writeSync(fd, data, offset, length);
      if (writes === allowed + 1 && length > 1) return nodeFileOps.writeSync(fd, data, offset, Math.floor(length / 2));
      throw ENOSPC();
    },
    failed: () => writes > allowed,
  };
}

const tiny = (out: string): Config =>
  configSchema.parse({
    name: 'tiny',
    data: { source: 'synthetic', synthetic: { train: 64, validation: 32 } },
    model: { depth: 8, width: 2, variants: ['plain', 'residual'] },
    train: { batchSize: 16, iterations: 6 },
    log: { every: 1 },
    eval: { every: 2 },
    checkpoint: { every: 2 },
    diagnostics: { every: 2, batch: 8 },
    backend: 'wasm',
    out,
  });

const quietLogger = () => createLogger({ quiet: true, stderr: { write: () => true } as unknown as NodeJS.WritableStream });

/** metrics.csv without the timing columns (images_per_sec, wall_seconds), which may differ. */
const curves = (dir: string) =>
  readFileSync(join(dir, 'metrics.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(',').filter((_, i) => i !== 10 && i !== 11).join(','));

const tempsIn = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((p) => /\.tmp-/.test(p));

describe('a full disk, file by file', () => {
  let reference: string[] = [];
  let referenceDiagnostics = '';
  before(async () => {
    await withTempDir(async (dir) => {
      await runExperiment({ config: tiny(join(dir, 'whole')), log: quietLogger().log });
      reference = curves(join(dir, 'whole'));
      referenceDiagnostics = readFileSync(join(dir, 'whole', 'diagnostics.csv'), 'utf8');
    });
  });

  // [file that fills the disk, writes to it that succeed first, the path the error names (in the run folder)]
  const cases: [string, (name: string) => boolean, number, RegExp][] = [
    ['log.jsonl', (n) => n === 'log.jsonl', 12, /^log\.jsonl$/],
    ['metrics.csv (a row)', (n) => n === 'metrics.csv', 3, /^metrics\.csv$/],
    ['diagnostics.csv (a point)', (n) => n === 'diagnostics.csv', 3, /^diagnostics\.csv$/],
    ['a checkpoint\'s weights', (n) => n === 'plain-8.bin', 1, /^checkpoints\/s0-000000004\/plain-8\.bin$/],
    ['a checkpoint\'s manifest', (n) => n === 'manifest.json', 2, /^checkpoints\/s0-000000006\/manifest\.json$/],
    ['summary.json', (n) => n.startsWith('summary.json'), 0, /^summary\.json$/],
  ];
  for (const [what, target, allowed, named] of cases) {
    it(`${what}: a WriteError naming it, no temp left, checkpoints whole; resume gives the unfailed run's curves`, async () => {
      await withTempDir(async (dir) => {
        const out = join(dir, 'run');
        const disk = fillingDisk(target, allowed);
        const logger = quietLogger();
        await assert.rejects(
          runExperiment({ config: tiny(out), log: logger.log, logToFile: logger.addFile, files: disk }).finally(() => logger.flush()),
          (e: unknown) => {
            assert.ok(e instanceof WriteError, String(e));
            assert.ok(e.path.startsWith(`${out}/`), e.message);
            assert.match(e.path.slice(out.length + 1), named);
            assert.equal(e.message, `cannot write ${e.path}: no space left on device (ENOSPC)`);
            return true;
          },
        );
        assert.ok(disk.failed());
        assert.deepEqual(tempsIn(out), []);
        assert.ok(!existsSync(join(out, '.resnet-exp-lock')), 'lock released');
        const folders = readdirSync(join(out, 'checkpoints')).filter((n) => n.startsWith('s'));
        assert.ok(folders.length > 0);
        for (const f of folders) assert.ok(readCheckpoint(join(out, 'checkpoints', f), readRunConfig(out)).ok, f);
        // Every line of the CSVs and the log is whole: the half-written record was cut back.
        for (const file of ['metrics.csv', 'diagnostics.csv', 'log.jsonl']) {
          const text = readFileSync(join(out, file), 'utf8');
          assert.ok(text.endsWith('\n'), `${file} ends with a torn line`);
        }
        for (const line of readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n')) JSON.parse(line);

        const resumed = quietLogger();
        const summary = await resumeExperiment({ runDir: out, log: resumed.log, logToFile: resumed.addFile }).finally(() => resumed.flush());
        assert.equal(summary.status, 'completed');
        assert.deepEqual(curves(out), reference);
        assert.equal(readFileSync(join(out, 'diagnostics.csv'), 'utf8'), referenceDiagnostics);
      });
    });
  }

  it('config.json at the start: the WriteError names it and the folder keeps no temp file', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'run');
      await assert.rejects(
        runExperiment({ config: tiny(out), log: quietLogger().log, files: fillingDisk((n) => n.startsWith('config.json'), 0) }),
        { name: 'WriteError', message: `cannot write ${join(out, 'config.json')}: no space left on device (ENOSPC)` },
      );
      assert.deepEqual(tempsIn(out), []);
      assert.ok(!existsSync(join(out, 'config.json')));
    });
  });
});

describe('durable writes', () => {
  it('a failed atomic write keeps the old content and removes its temp file', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'curves.svg');
      writeFileSync(file, 'old');
      assert.throws(() => writeFileAtomic(file, 'new content', fillingDisk(() => true, 0)), {
        name: 'WriteError',
        message: `cannot write ${file}: no space left on device (ENOSPC)`,
      });
      assert.equal(readFileSync(file, 'utf8'), 'old');
      assert.deepEqual(readdirSync(dir), ['curves.svg']);
    });
  });

  it('an append cut short by a full disk is cut back to where the file ended', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'metrics.csv');
      writeFileSync(file, 'a,b\n1,2\n');
      assert.throws(() => appendWhole(file, '3,4\n5,6\n', fillingDisk(() => true, 0)), { name: 'WriteError' });
      assert.equal(readFileSync(file, 'utf8'), 'a,b\n1,2\n');
    });
  });
});
