import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../result.js';

/** The installed package's root (dist/src/record → three levels up). */
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** `runs/<name>-<UTC time>` under the current folder, e.g. runs/cifar56-20261129T191512Z. */
export function defaultRunDir(name: string, now = new Date(), cwd = process.cwd()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return resolve(cwd, 'runs', `${name}-${stamp}`);
}

/** What a run writes into its folder. */
const RUN_FILES = ['config.json', 'metrics.csv', 'log.jsonl', 'summary.json', 'diagnostics.csv', 'checkpoints'];

/**
 * Creates the run folder, refusing one that already holds a run unless `force`, and proves it writable
 * before any training starts.
 */
export function prepareRunDir(dir: string, force: boolean): void {
  const holdsRun = existsSync(join(dir, 'config.json'));
  if (holdsRun && !force) {
    throw new InputError(`${dir} already holds a run; choose another --out, or pass --force to overwrite it`);
  }
  // Overwriting means starting clean: a new run must not append to the old curves or resume old checkpoints.
  if (holdsRun) for (const name of RUN_FILES) rmSync(join(dir, name), { recursive: true, force: true });
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    throw new InputError(`cannot write run folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** Readers see either the old or the complete new content: temp file, fsync, rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, data);
  const fd = openSync(temp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The commit of the resnet-exp checkout running (with `-dirty` for local edits), when it is a git checkout. */
export function gitCommit(): string | undefined {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return git('rev-parse', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? '-dirty' : '');
  } catch {
    return undefined;
  }
}
