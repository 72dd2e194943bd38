import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from '../helpers/cli.js';

const fixture = join(repoRoot, 'dist', 'test', 'backend', 'fixtures', 'slow-script-writes.js');

function runNode(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

it('the threaded wasm build starts even when writing its worker scripts stalls (workers never read a half-written file)', async () => {
  // Before the fix the worker script was rewritten once per pool worker; a worker reading it mid-rewrite ran
  // an empty script and exited, and the process then exited with 13 ("unsettled top-level await").
  const r = await runNode(fixture);
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { loaded: { ok: boolean }; threads: number };
  assert.ok(out.loaded.ok, r.stdout);
  assert.equal(out.threads, 2, 'fell back to the single-threaded build');
});
