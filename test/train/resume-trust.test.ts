import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs, { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { latestCheckpoint, type LoadedCheckpoint } from '../../src/train/checkpoint.js';
import { readRunConfig } from '../../src/train/resume.js';
import type { Result } from '../../src/result.js';
import { runInProcess } from '../helpers/cli.js';

/**
 * Resume continues only from state the run itself wrote: an edited config.json is refused, and a newest
 * checkpoint that is damaged, edited or names other files is passed over for the previous one. One small wasm
 * run (checkpoints at steps 9 and 12) is copied and tampered with per case.
 */

const args = (out: string) => [
  'run', 'configs/smoke.json',
  '--set', 'data.synthetic.train=64', '--set', 'data.synthetic.validation=32', '--set', 'train.batchSize=16',
  '--set', 'log.every=2', '--set', 'eval.every=4', '--set', 'checkpoint.every=3', '--set', 'model.width=4',
  '--iterations', '12', '--depth', '8', '--backend', 'wasm', '--out', out, '--quiet',
];

const NEWEST = 's0-000000012';
const PREVIOUS = 's0-000000009';

/** metrics.csv without the timing columns, which are the only ones allowed to differ. */
const curves = (dir: string) =>
  readFileSync(join(dir, 'metrics.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(',').filter((_, i) => i !== 10 && i !== 11).join(','));

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
type Json = Record<string, unknown>;

function editJson(path: string, edit: (j: Json) => void): void {
  const j = JSON.parse(readFileSync(path, 'utf8')) as Json;
  edit(j);
  writeFileSync(path, `${JSON.stringify(j)}\n`);
}

/** Edits the newest manifest; with `rehash` its manifest.sha256 is rewritten, so the edit "verifies". */
function editManifest(dir: string, edit: (m: Json) => void, rehash: boolean): void {
  const folder = join(dir, 'checkpoints', NEWEST);
  editJson(join(folder, 'manifest.json'), edit);
  if (rehash) writeFileSync(join(folder, 'manifest.sha256'), `${sha256(readFileSync(join(folder, 'manifest.json')))}  manifest.json\n`);
}

/** Every path `readFileSync` is asked for while `body` runs (the checkpoint code reads files only through it). */
function pathsReadDuring<T>(body: () => T): { value: T; paths: string[] } {
  const original = fs.readFileSync;
  const paths: string[] = [];
  fs.readFileSync = ((...a: unknown[]) => {
    paths.push(resolve(String(a[0])));
    return (original as (...x: unknown[]) => unknown)(...a);
  }) as unknown as typeof fs.readFileSync;
  syncBuiltinESMExports();
  try {
    return { value: body(), paths };
  } finally {
    fs.readFileSync = original;
    syncBuiltinESMExports();
  }
}

function lookUp(dir: string): { found: Result<LoadedCheckpoint | undefined, string>; warnings: string[]; paths: string[] } {
  const warnings: string[] = [];
  const { value, paths } = pathsReadDuring(() => latestCheckpoint(dir, readRunConfig(dir), (w) => warnings.push(w)));
  return { found: value, warnings, paths };
}

const snapshot = (dir: string) => ['metrics.csv', 'summary.json'].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : null));

describe('resume trusts only what the run wrote', () => {
  let root: string;
  let base: string;
  let reference: string[];
  let n = 0;
  /** The run as a crash would leave it (no summary.json): resume of a completed run changes nothing at all. */
  const copy = () => {
    const dir = join(root, `case-${n++}`);
    cpSync(base, dir, { recursive: true });
    rmSync(join(dir, 'summary.json'));
    return dir;
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'resnet-exp-test-'));
    base = join(root, 'base');
    const r = await runInProcess(args(base));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(join(base, 'checkpoints')).sort(), [PREVIOUS, NEWEST]);
    reference = curves(base);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('every checkpoint carries a SHA-256 of its manifest, in sha256sum format, and the config as config.json has it', () => {
    const { identity } = readRunConfig(base);
    assert.equal(identity.out, undefined);
    assert.deepEqual((identity.run as Json).backend, 'wasm');
    for (const name of [PREVIOUS, NEWEST]) {
      const folder = join(base, 'checkpoints', name);
      assert.equal(readFileSync(join(folder, 'manifest.sha256'), 'utf8'), `${sha256(readFileSync(join(folder, 'manifest.json')))}  manifest.json\n`);
      assert.deepEqual(JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')).config, identity);
    }
  });

  it('resume refuses an edited seed with exit 2, one line naming the key, and writes nothing', async () => {
    const dir = copy();
    editJson(join(dir, 'config.json'), (j) => (j.seed = 5));
    const before = snapshot(dir);
    const r = await runInProcess(['resume', dir]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /config\.json was changed after the run started: seed \(run 1, now 5\)/);
    assert.deepEqual(snapshot(dir), before);
  });

  it('resume refuses iterations edited below the checkpoint step, so no summary says completed with more steps than iterations', async () => {
    const dir = copy();
    editJson(join(dir, 'config.json'), (j) => ((j.train as Json).iterations = 6));
    const before = snapshot(dir);
    const r = await runInProcess(['resume', dir]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /train\.iterations \(run 12, now 6\)/);
    assert.deepEqual(snapshot(dir), before);
  });

  it('an edited step in the newest manifest fails its checksum: resume falls back and the curves stay those of the run', async () => {
    const dir = copy();
    editManifest(dir, (m) => (m.step = 11), false);
    const r = await runInProcess(['resume', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /s0-000000012: manifest\.json fails its checksum; using the previous checkpoint/);
    assert.deepEqual(curves(dir), reference);
  });

  it('a newest manifest that verifies but names no network: resume falls back (exit 0) instead of aborting', async () => {
    const dir = copy();
    editManifest(dir, (m) => (m.files = []), true);
    const r = await runInProcess(['resume', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /manifest names no files, expected "plain-8\.bin", "residual-8\.bin"; using the previous checkpoint/);
    assert.deepEqual(curves(dir), reference);
  });

  it('names outside the folder are refused before any file is opened, and the previous checkpoint used', () => {
    const outside = join(root, 'outside.bin');
    const real = readFileSync(join(base, 'checkpoints', NEWEST, 'plain-8.bin'));
    writeFileSync(outside, real);
    for (const name of ['../../../outside.bin', outside, 'sub/plain-8.bin', 'plain-8.bin/..']) {
      const dir = copy();
      // Same size and checksum as the real file: only the name is wrong.
      editManifest(dir, (m) => ((m.files as Json[])[0].name = name), true);
      const { found, warnings, paths } = lookUp(dir);
      // Nothing read outside the run folder, and no network file of the bad checkpoint.
      assert.deepEqual(paths.filter((p) => !p.startsWith(join(dir, 'checkpoints') + '/') && p !== join(dir, 'config.json')), [], name);
      assert.ok(!paths.some((p) => p.includes(join(NEWEST, 'plain-8.bin')) || p.includes('/sub/')), name);
      assert.ok(found.ok && found.value, `${name}: ${JSON.stringify(found)}`);
      assert.ok(found.value.folder.endsWith(PREVIOUS), name);
      assert.equal(warnings.length, 1, name);
      assert.ok(warnings[0].includes(JSON.stringify(name)), warnings[0]);
    }
  });

  it('a newest checkpoint bad in any way falls back to the previous one with a warning', () => {
    const bin = (dir: string) => join(dir, 'checkpoints', NEWEST, 'plain-8.bin');
    const cases: { what: string; tamper(dir: string): void; warning: RegExp }[] = [
      { what: 'edited RNG state', tamper: (d) => editManifest(d, (m) => ((m.sampler as Json).shuffleRng = [1, 2, 3, 4]), false), warning: /manifest\.json fails its checksum/ },
      { what: 'edited seed index', tamper: (d) => editManifest(d, (m) => (m.seedIndex = 1), false), warning: /manifest\.json fails its checksum/ },
      { what: 'no manifest.sha256', tamper: (d) => rmSync(join(d, 'checkpoints', NEWEST, 'manifest.sha256')), warning: /manifest\.sha256 is missing/ },
      { what: 'garbled manifest.sha256', tamper: (d) => writeFileSync(join(d, 'checkpoints', NEWEST, 'manifest.sha256'), 'x\n'), warning: /not a SHA-256 line/ },
      { what: 'a network left out', tamper: (d) => editManifest(d, (m) => (m.files = (m.files as Json[]).slice(1)), true), warning: /manifest names files "residual-8\.bin", expected/ },
      { what: 'a network renamed', tamper: (d) => editManifest(d, (m) => ((m.trainees as Json[])[0].id = 'plain-20'), true), warning: /manifest records networks \["plain-20", "residual-8"\]/ },
      { what: 'another seed', tamper: (d) => editManifest(d, (m) => (m.seed = 7), true), warning: /manifest says seed 7 at index 0/ },
      { what: 'a seed index past the seeds', tamper: (d) => editManifest(d, (m) => (m.seedIndex = 1), true), warning: /manifest says seed 1 at index 1/ },
      { what: 'a step that is not the folder\'s', tamper: (d) => editManifest(d, (m) => (m.step = 11), true), warning: /not what the folder name says/ },
      { what: 'a step past the iterations', tamper: (d) => editManifest(d, (m) => (m.step = 13), true), warning: /step 13 is past train\.iterations \(12\)/ },
      {
        what: 'sampler state of another step',
        tamper: (d) => editManifest(d, (m) => ((m.sampler as Json).step = 3), true),
        warning: /sampler state does not match/,
      },
      {
        what: 'finished seeds it cannot have',
        tamper: (d) => editManifest(d, (m) => (m.completed = [JSON.parse(readFileSync(join(base, 'summary.json'), 'utf8')).networks[0]]), true),
        warning: /finished seeds/,
      },
      {
        what: 'a config other than config.json\'s (config.json unchanged: the manifest is what was edited)',
        tamper: (d) => editManifest(d, (m) => ((m.config as Json).seed = 5), true),
        warning: /its config is not config\.json's: seed \(checkpoint 5, config\.json 1\)/,
      },
      { what: 'a manifest of the old format', tamper: (d) => editManifest(d, (m) => (m.version = 1), true), warning: /does not match the checkpoint format/ },
      { what: 'a damaged network file', tamper: (d) => writeFileSync(bin(d), readFileSync(bin(d)).subarray(1)), warning: /plain-8\.bin has \d+ bytes, expected/ },
      {
        what: 'a network file whose tensor table lies, with checksums to match',
        tamper: (d) => {
          const bytes = readFileSync(bin(d));
          bytes.write('['.padEnd(bytes.readUInt32LE(0), ' '), 4); // a header that is not a tensor table
          writeFileSync(bin(d), bytes);
          editManifest(d, (m) => Object.assign((m.files as Json[])[0], { sha256: sha256(bytes) }), true);
        },
        warning: /plain-8\.bin: its tensor table is unreadable/,
      },
      {
        what: 'a network file whose tensor table points past its data, with checksums to match',
        tamper: (d) => {
          const bytes = readFileSync(bin(d));
          const table = JSON.stringify([{ name: 'param:stem.conv.kernel', shape: [1e6], offset: 0, size: 1e6 }]);
          bytes.write(table.padEnd(bytes.readUInt32LE(0), ' '), 4);
          writeFileSync(bin(d), bytes);
          editManifest(d, (m) => Object.assign((m.files as Json[])[0], { sha256: sha256(bytes) }), true);
        },
        warning: /plain-8\.bin: its tensor table does not match its data/,
      },
    ];
    for (const c of cases) {
      const dir = copy();
      c.tamper(dir);
      const { found, warnings } = lookUp(dir);
      assert.ok(found.ok && found.value, `${c.what}: ${JSON.stringify(found)}`);
      assert.ok(found.value.folder.endsWith(PREVIOUS), `${c.what}: used ${found.value.folder}`);
      assert.equal(warnings.length, 1, `${c.what}: ${warnings.join(' | ')}`);
      assert.match(warnings[0], c.warning, c.what);
      assert.match(warnings[0], /s0-000000012.*; using the previous checkpoint$/, c.what);
    }
  });

  it('with every checkpoint bad there is none to resume from', () => {
    const dir = copy();
    for (const name of [PREVIOUS, NEWEST]) rmSync(join(dir, 'checkpoints', name, 'manifest.sha256'));
    const { found, warnings } = lookUp(dir);
    assert.deepEqual(found, { ok: true, value: undefined });
    assert.equal(warnings.length, 2);
  });

  it('config.json is compared by resolved value, key by key; only where the run and the data live may change', () => {
    const changed = (edit: (j: Json) => void) => {
      const dir = copy();
      editJson(join(dir, 'config.json'), edit);
      return lookUp(dir).found;
    };
    const refused = (edit: (j: Json) => void, keys: RegExp) => {
      const found = changed(edit);
      assert.ok(!found.ok, JSON.stringify(found));
      assert.match(found.error, keys);
    };
    refused((j) => {
      (j.train as Json).lr = 0.2;
      (j.model as Json).variants = ['plain'];
    }, /: model\.variants \(run \["plain","residual"\], now \["plain"\]\), train\.lr \(run 0\.1, now 0\.2\); undo the change/);
    refused((j) => (j.seeds = [1, 2]), /: seeds \(run absent, now \[1,2\]\)/);
    refused((j) => ((j.run as Json).backend = 'cpu'), /: run\.backend \(run "wasm", now "cpu"\)/);
    refused((j) => ((j.log as Json).every = 4), /: log\.every \(run 2, now 4\)/);

    const accepted = (edit: (j: Json) => void) => {
      const found = changed(edit);
      assert.ok(found.ok && found.value?.folder.endsWith(NEWEST), JSON.stringify(found));
    };
    accepted((j) => (j.out = '/somewhere/else'));
    accepted((j) => ((j.data as Json).dir = '/data/cifar-10-batches-bin'));
    accepted((j) => delete (j.train as Json).momentum); // its default, 0.9: the same resolved config
    accepted((j) => ((j.run as Json).started = '2000-01-01T00:00:00.000Z')); // a record of the past, not read by resume
  });
});
