import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STYLE } from './pages.js';

/** A file the page loads, held in memory: the set is fixed when the server starts, so no request names a path. */
export interface Asset {
  type: string;
  body: Buffer;
}

const require = createRequire(import.meta.url);

/** An installed package's folder (vega's `exports` hide its build files from require.resolve). */
function packageDir(name: string): string {
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`package ${name} is not installed (npm ci)`);
}

const JS = 'text/javascript; charset=utf-8';

/**
 * The page's scripts, served by resnet-exp so that it works offline: vega, vega-lite and vega-embed's browser
 * builds from node_modules, and the page's own modules (compiled from src/serve/client). Read once, at start.
 */
export function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, pkg, file] of [
    ['vega.min.js', 'vega', 'build/vega.min.js'],
    ['vega-lite.min.js', 'vega-lite', 'build/vega-lite.min.js'],
    ['vega-embed.min.js', 'vega-embed', 'build/vega-embed.min.js'],
  ] as const) {
    assets.set(name, { type: JS, body: readFileSync(join(packageDir(pkg), file)) });
  }
  const client = join(dirname(fileURLToPath(import.meta.url)), 'client');
  for (const file of readdirSync(client)) {
    if (file.endsWith('.js')) assets.set(`app/${file}`, { type: JS, body: readFileSync(join(client, file)) });
  }
  assets.set('style.css', { type: 'text/css; charset=utf-8', body: Buffer.from(STYLE) });
  return assets;
}
