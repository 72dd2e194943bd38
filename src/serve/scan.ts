import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SWEEP_FILE } from '../record/sweep-file.js';
import { isInside, realPath } from './inside.js';

/** A folder the dashboard shows: a run (metrics.csv, or config.json and log.jsonl of one starting) or a sweep. */
export interface Found {
  /** Its path from its root, `/`-separated; with several roots, under the root's name. Never a file path. */
  id: string;
  kind: 'run' | 'sweep';
  /** Real path: symlinks resolved, inside a root. */
  dir: string;
  /** The sweep folder it is in, by id. */
  sweep: string | null;
  /** Which root it was found under, and its path from there as found (symlinks not resolved); '' for the root. */
  root: number;
  rel: string;
}

/** How deep below a root runs are looked for: runs/<sweep>/<run> is 2. */
const MAX_DEPTH = 4;
/** Folders that hold no runs: a run's checkpoints, and what tools put beside them. */
const SKIP = new Set(['checkpoints', 'node_modules', '.git']);

const has = (dir: string, name: string): boolean => {
  try {
    return statSync(join(dir, name)).isFile();
  } catch {
    return false;
  }
};

const kindOf = (dir: string): Found['kind'] | undefined =>
  has(dir, SWEEP_FILE) ? 'sweep' : has(dir, 'metrics.csv') || (has(dir, 'config.json') && has(dir, 'log.jsonl')) ? 'run' : undefined;

/** A name per root, unique among them: its folder name, numbered on a clash. */
function rootNames(roots: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return roots.map((r) => {
    const name = basename(r) || 'root';
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name}-${n}`;
  });
}

/**
 * The runs and sweeps under `roots` (real paths). A symlink is followed only when its target lies inside a root
 * (then it is shown once, under the first path found); one pointing elsewhere is not listed, so nothing outside
 * the roots is ever served. A run folder's own subfolders are not searched; a sweep folder's are.
 */
export function scanRoots(roots: readonly string[]): Found[] {
  const names = rootNames(roots);
  const found: Found[] = [];
  const seen = new Set<string>();
  const visit = (root: number, dir: string, rel: string, depth: number, sweep: string | null): void => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const kind = kindOf(dir);
    // With several roots, ids start with the root's name; a root that is itself a run or sweep goes by its name.
    const id = [roots.length > 1 || (rel === '' && kind) ? names[root] : '', rel].filter((p) => p !== '').join('/');
    if (kind && id !== '') found.push({ id, kind, dir, sweep, root, rel });
    if (kind === 'run' || depth >= MAX_DEPTH) return;
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of entries) {
      if (name.startsWith('.') || SKIP.has(name)) continue;
      const real = realPath(join(dir, name));
      if (real === undefined || !roots.some((r) => isInside(real, r))) continue;
      try {
        if (!statSync(real).isDirectory()) continue;
      } catch {
        continue;
      }
      visit(root, real, rel === '' ? name : `${rel}/${name}`, depth + 1, kind === 'sweep' ? id : sweep);
    }
  };
  roots.forEach((root, i) => visit(i, root, '', 0, null));
  return found;
}
