import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/structure). */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const src = join(root, 'src');

/** The "may import" table of docs/code-structure.md: folder → the folders it may import. */
export function allowedImports(markdown: string): Map<string, Set<string>> {
  const table = new Map<string, Set<string>>();
  const section = markdown.split(/^## What may import what$/m)[1]?.split(/^## /m)[0] ?? '';
  for (const line of section.split('\n')) {
    const cells = /^\|\s*([a-z]+)\s*\|([^|]*)\|\s*$/.exec(line.trim());
    if (!cells || cells[1] === 'folder') continue;
    const targets = cells[2].split(',').map((t) => t.trim()).filter(Boolean);
    table.set(cells[1], new Set(targets));
  }
  return table;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative imports of a file (static, side-effect and dynamic), with their line numbers. */
export function relativeImports(text: string): { specifier: string; line: number }[] {
  const found: { specifier: string; line: number }[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm;
  for (const m of text.matchAll(pattern)) {
    found.push({ specifier: m[1], line: text.slice(0, m.index).split('\n').length });
  }
  return found;
}

/** The top-level folder of src/ a path lies in ('result.ts' for the shared root file). */
const folderOf = (path: string): string => relative(src, path).split(sep)[0];

export function layerViolations(table: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  for (const file of sourceFiles(src)) {
    const from = folderOf(file);
    if (from === 'result.ts' || from === 'index.ts') continue;
    const allowed = table.get(from);
    if (!allowed) {
      problems.push(`${relative(root, file)}: folder src/${from}/ is not in docs/code-structure.md`);
      continue;
    }
    for (const { specifier, line } of relativeImports(readFileSync(file, 'utf8'))) {
      const to = folderOf(resolve(dirname(file), specifier));
      if (to === from || to === 'result.js' || to === 'result.ts') continue;
      if (!allowed.has(to)) problems.push(`${relative(root, file)}:${line}: src/${from}/ may not import src/${to}/ (${specifier})`);
    }
  }
  return problems;
}

describe('layers (docs/code-structure.md)', () => {
  const table = allowedImports(readFileSync(join(root, 'docs', 'code-structure.md'), 'utf8'));

  it('the document names every folder of src/', () => {
    const folders = readdirSync(src, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    assert.deepEqual(folders.filter((f) => !table.has(f)), []);
  });

  it('no import in src/ runs against the table', () => {
    assert.deepEqual(layerViolations(table), []);
  });

  it('an upward import is caught, with file and line', () => {
    const strict = new Map(table);
    strict.set('train', new Set());
    const found = layerViolations(strict);
    assert.ok(found.some((p) => /^src\/train\/[^:]+:\d+: src\/train\/ may not import src\/(models|config|data)\//.test(p)), found.join('\n'));
  });

  it('reads static, side-effect and dynamic imports', () => {
    const text = "import a from './a.js';\nimport './b.js';\nconst c = await import('../c/c.js');\nexport { d } from '../d.js';";
    assert.deepEqual(relativeImports(text).map((i) => [i.specifier, i.line]), [['./a.js', 1], ['./b.js', 2], ['../c/c.js', 3], ['../d.js', 4]]);
  });
});
