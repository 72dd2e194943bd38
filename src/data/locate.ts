import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '../result.js';
import { CIFAR10, type CifarRelease } from './releases.js';

/** The per-user cache (XDG convention): `fetch` puts releases in `<cache>/resnet-exp/<folder>`. */
export function cacheDataDir(env: NodeJS.ProcessEnv = process.env, folder = CIFAR10.folder): string {
  const cache = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(cache, 'resnet-exp', folder);
}

/** Whether `dir` holds a training file of `release` (what the reader needs to take it as data). */
export function hasTrainFiles(release: CifarRelease, dir: string): boolean {
  try {
    return readdirSync(dir).some((name) => release.trainFile.test(name));
  } catch {
    return false;
  }
}

/**
 * The release's folder: the one the config names (after --data-dir and, for CIFAR-10, RESNET_EXP_DATA), else the
 * first of the fetch cache and ./data/<folder> that holds training files.
 */
export function locateRelease(release: CifarRelease, configured: string | undefined, cwd = process.cwd()): string {
  if (configured !== undefined) return configured;
  const candidates = [cacheDataDir(process.env, release.folder), resolve(cwd, 'data', release.folder)];
  const found = candidates.find((dir) => hasTrainFiles(release, dir));
  if (found) return found;
  const env = release.id === 'cifar10' ? ', or set RESNET_EXP_DATA' : '';
  throw new InputError(
    `no ${release.title} data found (looked in ${candidates.join(', ')}); run \`resnet-exp fetch ${release.id}\`, pass --data-dir DIR${env}`,
  );
}

export const locateCifar10 = (configured: string | undefined, cwd = process.cwd()): string => locateRelease(CIFAR10, configured, cwd);
