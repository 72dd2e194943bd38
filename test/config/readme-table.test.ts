import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configKeys, configTable } from '../../src/config/reference.js';
import { configSchema } from '../../src/config/schema.js';
import { repoRoot } from '../helpers/cli.js';

/** Dotted paths of a parsed config's values (arrays are values). */
const leaves = (value: unknown, path: string[] = []): string[] =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]))
    : [path.join('.')];

describe("README's config table", () => {
  it('is the one the schema generates (npm run docs:config rewrites it)', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const table = /<!-- config-table:start[^\n]*\n([\s\S]*?)<!-- config-table:end -->/.exec(readme);
    assert.ok(table, 'README.md has no config-table markers');
    assert.equal(table[1].trimEnd(), configTable(), "README.md's config table differs from src/config/schema.ts: run npm run docs:config");
  });

  it('has a described row for every key a config holds, defaults as the schema applies them', () => {
    const keys = configKeys();
    const defaults = configSchema.parse({});
    // Optional keys without a default (seeds, out, data.dir, ...) are absent from a parsed {}.
    const missing = leaves(defaults).filter((k) => !keys.some((row) => row.key === k));
    assert.deepEqual(missing, []);
    assert.equal(keys.find((k) => k.key === 'train.iterations')?.default, '`64000`');
    assert.equal(keys.find((k) => k.key === 'model.variants')?.default, '`["plain","residual"]`');
    assert.match(keys.find((k) => k.key === 'backend')!.meaning, /One of `auto`, `tensorflow-gpu`, `tensorflow`, `onednn`, `wasm`, `cpu`$/);
    for (const row of keys) assert.ok(row.meaning.length > 0, row.key);
  });
});
