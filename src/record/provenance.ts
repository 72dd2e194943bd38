import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What produced a run, for its config.json: the package version and the git commit. */

/** The installed package's root (dist/src/record → three levels up). */
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

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
