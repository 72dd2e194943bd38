import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/cli.js';

type Library = typeof import('../../src/index.js');

test("package.json's main is the library a script imports: configs, runs, run records, reports, networks, the CLI", async () => {
  const { main } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { main: string };
  const lib = (await import(pathToFileURL(join(repoRoot, main)).href)) as Library;

  const config = lib.loadConfig({ file: join(repoRoot, 'configs', 'smoke.json'), overrides: [lib.parseSet('seed=3')] });
  assert.ok(config.ok, config.ok ? '' : config.error.join('\n'));
  assert.equal(config.value.seed, 3);
  const bad = lib.loadConfig({ overrides: [lib.parseSet('model.depth=21')] });
  assert.equal(bad.ok, false);

  for (const name of ['runExperiment', 'resumeExperiment', 'RunFolder', 'readSummary', 'readRunConfig', 'loadRuns', 'aggregate', 'buildReport', 'buildNetwork', 'planSweep', 'executeSweep', 'main', 'cli'] as const) {
    assert.equal(typeof lib[name], 'function', name);
  }

  let stdout = '';
  const io = { ...lib.processIo(), stdout: { write: (text: string) => (stdout += text) }, cwd: repoRoot };
  assert.equal(await lib.main(['validate', 'configs/smoke.json', '--seed', '5'], io), 0);
  assert.equal((JSON.parse(stdout) as { seed: number }).seed, 5);
});
