import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers/cli.js';

const fixture = join(repoRoot, 'dist', 'test', 'backend', 'fixtures', 'wasm-start-with-faulty-writes.js');

/** Starts the threaded wasm build in a fresh process, with the fixture's write fault `mode`. */
function startWasm(mode: 'stall' | 'empty-worker'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, mode], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const parse = (stdout: string) => JSON.parse(stdout) as { loaded: { ok: boolean }; threads: number };

describe('starting the threaded wasm build in Node', () => {
  it('succeeds when writing the worker scripts stalls: no worker ever reads a half-written script', async () => {
    // The worker script used to be rewritten once per pool worker; a worker reading it mid-rewrite ran an
    // empty script and exited, and the process then exited with 13 ("unsettled top-level await").
    const r = await startWasm('stall');
    assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
    assert.ok(parse(r.stdout).loaded.ok, r.stdout);
    assert.equal(parse(r.stdout).threads, 2, 'fell back to the single-threaded build');
  });

  it('a pool worker dying during start-up ends the wait at once (single-threaded fallback), never the process', async () => {
    const r = await startWasm('empty-worker');
    assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
    assert.ok(parse(r.stdout).loaded.ok, r.stdout);
    assert.equal(parse(r.stdout).threads, 1);
  });
});
