import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { bin, repoRoot } from '../helpers/cli.js';

/** Starts the CLI and resolves once its stderr shows `pattern` (or rejects when it exits first). */
export function startUntil(args: string[], pattern: RegExp, cwd = repoRoot) {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, RESNET_EXP_DATA: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const matched = new Promise<RegExpMatchArray>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = stderr.match(pattern);
      if (m) resolve(m);
    });
    void exited.then(([code]) => reject(new Error(`exited ${code} before ${pattern}: ${stderr}`)));
  });
  return { child, matched, exited, output: () => ({ stdout, stderr }) };
}
