// Writes the README's config table from the zod schema's descriptions (src/config/reference.ts), between the
// config-table markers. test/config/readme-table.test.ts fails when the two drift. Run: npm run docs:config
import { readFileSync, writeFileSync } from 'node:fs';
import { configTable } from '../dist/src/config/reference.js';

const readme = new URL('../README.md', import.meta.url);
const START = '<!-- config-table:start';
const END = '<!-- config-table:end -->';
const text = readFileSync(readme, 'utf8');
const start = text.indexOf(START);
const end = text.indexOf(END);
if (start < 0 || end < start) {
  console.error(`README.md: no ${START} ... ${END} markers`);
  process.exit(1);
}
const afterStart = text.indexOf('\n', start) + 1;
const updated = `${text.slice(0, afterStart)}${configTable()}\n${text.slice(end)}`;
if (updated === text) console.log('README.md: config table up to date');
else {
  writeFileSync(readme, updated);
  console.log('README.md: config table rewritten from src/config/schema.ts');
}
