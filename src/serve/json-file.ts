import { closeSync, readSync } from 'node:fs';
import { openInside } from './inside.js';

/** config.json, summary.json and sweep.json are small; a larger one is not ours, and is not read. */
const MAX_JSON = 4 * 1024 * 1024;

interface Cached {
  key: string;
  value: unknown;
}

/**
 * JSON files of the served folders, read again only when their size or modification time changed; undefined
 * for a missing, unparsable or outside file (as `report` treats config.json and summary.json).
 */
export class JsonFiles {
  private readonly cache = new Map<string, Cached>();

  read(path: string, dir: string): unknown {
    const opened = openInside(path, dir);
    if (!opened) {
      this.cache.delete(path);
      return undefined;
    }
    const { fd, stat } = opened;
    try {
      const key = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      const hit = this.cache.get(path);
      if (hit?.key === key) return hit.value;
      let value: unknown;
      if (stat.size <= MAX_JSON) {
        const buffer = Buffer.alloc(stat.size);
        let got = 0;
        while (got < stat.size) {
          const n = readSync(fd, buffer, got, stat.size - got, got);
          if (n === 0) break;
          got += n;
        }
        try {
          value = JSON.parse(buffer.subarray(0, got).toString('utf8'));
        } catch {
          value = undefined;
        }
      }
      this.cache.set(path, { key, value });
      return value;
    } finally {
      closeSync(fd);
    }
  }
}
