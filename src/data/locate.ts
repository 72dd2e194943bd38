import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '../result.js';

/** Where `resnet-exp fetch cifar10` puts the data set: the XDG cache convention. */
export function cacheDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(cache, 'resnet-exp', 'cifar-10-batches-bin');
}

const hasBatches = (dir: string): boolean =>
  existsSync(dir) && readdirSync(dir).some((name) => /^data_batch_\d+\.bin$/.test(name));

/**
 * The CIFAR-10 folder: the one the config names (after --data-dir and RESNET_EXP_DATA), else the first of the
 * fetch cache and ./data/cifar-10-batches-bin that holds batches.
 */
export function locateCifar10(configured: string | undefined, cwd = process.cwd()): string {
  if (configured !== undefined) return configured;
  const candidates = [cacheDataDir(), resolve(cwd, 'data', 'cifar-10-batches-bin')];
  const found = candidates.find(hasBatches);
  if (found) return found;
  throw new InputError(
    `no CIFAR-10 data found (looked in ${candidates.join(', ')}); run \`resnet-exp fetch cifar10\`, pass --data-dir DIR, or set RESNET_EXP_DATA`,
  );
}
