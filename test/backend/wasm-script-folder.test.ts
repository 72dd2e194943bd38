import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { removeAbandonedScriptFolders } from '../../src/backend/wasm/script-folder.js';
import { repoRoot } from '../helpers/cli.js';

const base = mkdtempSync(join(tmpdir(), 'script-folder-test-'));
after(() => rmSync(base, { recursive: true, force: true }));

/** A pid that was just used and is gone. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  assert.ok(r.pid !== undefined);
  return r.pid;
}

function folder(root: string, name: string, files: string[]): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const f of files) writeFileSync(join(dir, f), '// script\n');
  return dir;
}

const ours = (root: string): string[] => readdirSync(root).filter((n) => n.startsWith('resnet-exp-wasm-')).sort();

describe('wasm start-up script folders', () => {
  it('removes only folders of ours whose process is gone', () => {
    const root = mkdtempSync(join(base, 'unit-'));
    const dead = deadPid();
    folder(root, `resnet-exp-wasm-${dead}-abc123`, ['wasm-module.cjs', 'wasm-worker.cjs', 'wasm-worker.cjs.tmp']);
    const kept = [
      folder(root, `resnet-exp-wasm-${process.pid}-abc123`, ['wasm-module.cjs']), // alive: this process
      folder(root, `resnet-exp-wasm-${process.ppid}-abc123`, ['wasm-module.cjs']), // alive: another process
      folder(root, `resnet-exp-wasm-${dead}-def456`, ['wasm-module.cjs', 'notes.txt']), // holds a file not ours
      folder(root, 'resnet-exp-wasm-Xy12Zq', ['wasm-module.cjs']), // the old name, without a pid
    ];
    symlinkSync(join(root, 'resnet-exp-wasm-Xy12Zq'), join(root, `resnet-exp-wasm-${dead}-lnk999`));
    writeFileSync(join(root, `resnet-exp-wasm-${dead}-file00`), 'a file, not a folder');

    const removed = removeAbandonedScriptFolders(root);
    assert.deepEqual(removed, [join(root, `resnet-exp-wasm-${dead}-abc123`)]);
    assert.deepEqual(
      ours(root),
      [...kept.map((d) => d.slice(root.length + 1)), `resnet-exp-wasm-${dead}-file00`, `resnet-exp-wasm-${dead}-lnk999`].sort(),
    );
    assert.deepEqual(readdirSync(join(root, 'resnet-exp-wasm-Xy12Zq')), ['wasm-module.cjs'], 'a link was followed');
  });

  it('a start-up after a SIGKILLed one leaves no folder behind', async () => {
    const root = mkdtempSync(join(base, 'kill-'));
    const fixture = join(repoRoot, 'dist', 'test', 'backend', 'fixtures', 'wasm-start-and-wait.js');
    const env = { ...process.env, TMPDIR: root };

    const child = spawn(process.execPath, [fixture, 'wait'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`fixture exited ${code} before loading`)));
    });
    const { ok, pid } = JSON.parse(line) as { ok: boolean; pid: number };
    assert.ok(ok);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    assert.equal(ours(root).length, 1, 'the killed process left its folder (what this test is about)');
    assert.match(ours(root)[0]!, new RegExp(`^resnet-exp-wasm-${pid}-`));

    const next = spawnSync(process.execPath, [fixture], { cwd: repoRoot, env, encoding: 'utf8' });
    assert.equal(next.status, 0, next.stderr);
    assert.deepEqual(ours(root), [], 'the next start-up removed the abandoned folder and its own');
  });
});
