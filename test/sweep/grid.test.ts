import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { expandGrid, parseGrid, splitTopLevel, type GridAxis } from '../../src/sweep/grid.js';
import { planSweep, runFolderName } from '../../src/sweep/plan.js';
import { shellJoin, shellQuote } from '../../src/sweep/shell.js';

const axes = (...flags: string[]): GridAxis[] => {
  const parsed = parseGrid(flags);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.join('\n'));
  return parsed.value;
};

const problems = (...flags: string[]): string[] => {
  const parsed = parseGrid(flags);
  assert.equal(parsed.ok, false, `expected ${flags.join(' ')} to be refused`);
  return parsed.ok ? [] : parsed.error;
};

describe('grid parsing', () => {
  it('values are parsed like --set values: JSON when they parse, else strings', () => {
    const [depth] = axes('model.depth=20,32');
    assert.deepEqual(depth.path, ['model', 'depth']);
    assert.deepEqual(depth.values.map((v) => v.value), [20, 32]);
    const [lr] = axes('train.lr=0.1, 1e-2');
    assert.deepEqual(lr.values.map((v) => v.value), [0.1, 0.01]);
    const [backend] = axes('backend=wasm,cpu');
    assert.deepEqual(backend.values.map((v) => v.value), ['wasm', 'cpu']);
  });

  it('commas inside JSON arrays, objects and strings do not split values', () => {
    assert.deepEqual(splitTopLevel('["plain","residual"],["preact"]'), ['["plain","residual"]', '["preact"]']);
    assert.deepEqual(splitTopLevel('{"a":[1,2]},"x,y",3'), ['{"a":[1,2]}', '"x,y"', '3']);
    const [variants] = axes('model.variants=["plain","residual"],["preact"]');
    assert.deepEqual(variants.values.map((v) => v.value), [['plain', 'residual'], ['preact']]);
  });

  it('refuses entries without =, with empty values, twice the same value, out, or overlapping keys', () => {
    assert.match(problems('model.depth')[0], /--grid model.depth: expected key.path=v1,v2/);
    assert.match(problems('=1,2')[0], /expected key.path=/);
    assert.match(problems('seed=')[0], /--grid seed=: value 1 is empty/);
    assert.match(problems('seed=1,,3')[0], /value 2 is empty/);
    assert.match(problems('seed=1,2,')[0], /value 3 is empty/);
    assert.match(problems('model..depth=20')[0], /empty key/);
    assert.match(problems('seed=1,1.0')[0], /given twice/);
    assert.match(problems('out=a,b')[0], /use --out/);
    assert.match(problems('seed=1,2', 'seed=3')[0], /--grid seed: overlaps --grid seed/);
    assert.match(problems('model={"depth":20}', 'model.depth=20,32')[0], /overlaps/);
    assert.match(problems()[0], /at least one --grid/);
    // Every bad flag is reported, not only the first.
    assert.equal(problems('a', 'seed=').length, 2);
  });

  it('refuses grids too large to launch', () => {
    const big = Array.from({ length: 101 }, (_, i) => i).join(',');
    assert.match(problems(`seed=${big}`, `train.lr=${big}`)[0], /10201 combinations; at most 10000/);
  });
});

describe('grid expansion', () => {
  it('is the cartesian product with the first --grid outermost, values in the order given', () => {
    const combos = expandGrid(axes('model.depth=20,32', 'seed=3,1,2'));
    assert.deepEqual(
      combos.map((c) => c.assignments.map((a) => `${a.key}=${a.text}`).join(' ')),
      [
        'model.depth=20 seed=3',
        'model.depth=20 seed=1',
        'model.depth=20 seed=2',
        'model.depth=32 seed=3',
        'model.depth=32 seed=1',
        'model.depth=32 seed=2',
      ],
    );
    assert.deepEqual(combos.map((c) => c.index), [0, 1, 2, 3, 4, 5]);
  });

  it('names run folders by index and values, readable and safe as file names', () => {
    const combos = expandGrid(axes('model.depth=20,32', 'seed=1'));
    assert.deepEqual(combos.map((c) => runFolderName(c, combos.length)), ['000-model.depth=20-seed=1', '001-model.depth=32-seed=1']);
    const [odd] = expandGrid(axes('model.variants=["plain","residual"]', 'data.dir=/a b/c'));
    assert.equal(runFolderName(odd, 1), '000-model.variants=plain,residual-data.dir=_a_b_c');
    assert.equal(runFolderName(odd, 12345), '00000-model.variants=plain,residual-data.dir=_a_b_c');
  });
});

describe('planning', () => {
  // `{}`: all defaults (an empty file is an error, not a request for them).
  const dir = mkdtempSync(join(tmpdir(), 'resnet-exp-plan-'));
  const defaults = join(dir, 'defaults.json');
  writeFileSync(defaults, '{}\n');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const spec = (grid: string[], sets: string[] = []) => ({
    configFile: defaults,
    sets,
    shorthands: { depth: '8', backend: 'wasm' },
    grid,
    out: 'sw',
    cwd: '/tmp',
  });

  it('validates every combination and names the invalid one and its problem', () => {
    const planned = planSweep(spec(['model.depth=20,21,32', 'seed=1']));
    assert.equal(planned.ok, false);
    assert.deepEqual(planned.ok ? [] : planned.error, [
      `combination 1 (model.depth=21 seed=1): ${defaults}: model.depth: must be 6n+2 such as 20, 32, 44, 56, 110 (got 21)`,
    ]);
  });

  it('reports a problem shared by every combination once, without a combination', () => {
    const planned = planSweep(spec(['seed=1,2'], ['train.lr=-1']));
    assert.deepEqual(planned.ok ? [] : planned.error, [`${defaults}: train.lr: Too small: expected number to be >0 (got -1)`]);
  });

  it('applies grid values after --set and flags, each run into its folder under --out', () => {
    const planned = planSweep(spec(['model.depth=20,32'], ['seed=5']));
    assert.ok(planned.ok);
    assert.equal(planned.value.dir, '/tmp/sw');
    assert.deepEqual(planned.value.runs.map((r) => [r.config.model.depth, r.config.seed, r.config.backend, r.config.out]), [
      [20, 5, 'wasm', '/tmp/sw/000-model.depth=20'],
      [32, 5, 'wasm', '/tmp/sw/001-model.depth=32'],
    ]);
    assert.deepEqual(planned.value.baseSets, ['seed=5', 'model.depth=8', 'backend=wasm']);
  });
});

describe('shell quoting', () => {
  it('round-trips any argument through a real shell', () => {
    const args = ['plain', 'a b', "it's", '$HOME', '"q"', 'x;y', '`id`', '', 'model.variants=["plain","residual"]', 'tab\there', 'ünï'];
    const printed = execFileSync('bash', ['-c', `printf '%s\\0' ${shellJoin(args)}`], { encoding: 'utf8' });
    assert.deepEqual(printed.split('\0').slice(0, -1), args);
    assert.equal(shellQuote('model.depth=20'), 'model.depth=20');
  });
});
