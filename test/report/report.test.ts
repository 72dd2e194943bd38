import { configSchema } from '../../src/config/index.js';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { aggregate, finalTrainError, replicates, stat, type NetworkReport } from '../../src/report/aggregate.js';
import { loadRuns, readRun } from '../../src/report/read-run.js';
import { buildReport, type Report } from '../../src/report/report.js';
import { verdicts } from '../../src/report/verdict.js';
import { cli, fourNets, withTempDir, writeRun } from './fixtures.js';

const close = (actual: number | null, expected: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

function networksOf(dir: string): NetworkReport[] {
  const runs = loadRuns([dir]);
  assert.ok(runs.ok, runs.ok ? '' : runs.error);
  return aggregate(runs.value).networks;
}

const net = (ns: NetworkReport[], variant: string, depth: number) => {
  const n = ns.find((x) => x.variant === variant && x.depth === depth);
  assert.ok(n, `${variant}-${depth} missing`);
  return n;
};

describe('statistics over seeds', () => {
  it('gives the mean and the sample standard deviation, and no std for one seed', () => {
    const s = stat([0.3, 0.32, 0.34]);
    close(s.mean, 0.32, 'mean');
    close(s.std, 0.02, 'std');
    assert.deepEqual(stat([0.5]), { mean: 0.5, std: null, values: [0.5] });
    assert.deepEqual(stat([null, Number.NaN]), { mean: null, std: null, values: [] });
  });

  it('final training error is the mean over the last 10% of iterations, each row weighted by its steps inside it', async () => {
    await withTempDir((dir) => {
      // Rows at 5, 10, …, 95 and 98; the window (88.2, 98] takes 1.8 steps of the row at 90, 5 of the row at 95
      // and 3 of the row at 98.
      writeRun(dir, { seed: 1, iterations: 98, logEvery: 5, nets: [{ variant: 'plain', depth: 20, early: 0.9, final: [0.5, 0.3, 0.1] }] });
      const run = readRun(dir);
      assert.ok(run.ok);
      const [r] = replicates([run.value]);
      close(finalTrainError(r), (1.8 * 0.5 + 5 * 0.3 + 3 * 0.1) / 9.8, 'final train');
    });
  });
});

describe('report over seeds and folders', () => {
  it('pools seeds of one folder and of several folders: mean ± std of final, final test and best test error', async () => {
    await withTempDir((dir) => {
      const a = writeRun(join(dir, 'a'), [fourNets(1, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.25 }), fourNets(2, { p20: 0.32, p56: 0.42, r20: 0.28, r56: 0.27 })]);
      const b = writeRun(join(dir, 'b'), fourNets(3, { p20: 0.34, p56: 0.44, r20: 0.28, r56: 0.29 }));
      const runs = loadRuns([a, b]);
      assert.ok(runs.ok, runs.ok ? '' : runs.error);
      const report = buildReport(runs.value);
      assert.deepEqual(report.runs.map((r) => r.seeds), [[1, 2], [3]]);
      assert.deepEqual(report.networks.map((n) => `${n.variant}-${n.depth}`), ['plain-20', 'plain-56', 'residual-20', 'residual-56']);
      const p20 = net(report.networks, 'plain', 20);
      assert.equal(p20.seeds, 3);
      assert.deepEqual([...p20.seed_list].sort(), [1, 2, 3]);
      assert.equal(p20.params, 20_000);
      close(p20.final_train_error.mean, 0.32, 'plain-20 final train mean');
      close(p20.final_train_error.std, 0.02, 'plain-20 final train std');
      close(p20.final_test_error.mean, 0.42, 'plain-20 final test mean');
      close(p20.final_test_error.std, 0.01, 'plain-20 final test std');
      const r20 = net(report.networks, 'residual', 20);
      close(r20.best_test_error.mean, 0.4, 'residual-20 best test');
      close(r20.best_test_error.std, 0, 'residual-20 best test std');
      close(r20.best_test_step.mean, 50, 'residual-20 best step');
      close(r20.final_test_error.mean, 0.42, 'residual-20 final test');
      close(net(report.networks, 'residual', 56).final_train_error.mean, 0.27, 'residual-56 final train');
      assert.equal(report.verdicts.comparisons[0].degradation.outcome, 'observed');
      assert.equal(report.verdicts.comparisons[0].fixes[0].outcome, 'full');
      assert.deepEqual(report.warnings, []);
    });
  });

  it('counts a diverged seed and leaves it out of the final training error', async () => {
    await withTempDir((dir) => {
      const run = fourNets(2, { p20: 0.3, p56: 0.5, r20: 0.28, r56: 0.25 });
      run.nets[1] = { ...run.nets[1], diverged: true };
      writeRun(dir, [fourNets(1, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.25 }), run]);
      const p56 = net(networksOf(dir), 'plain', 56);
      assert.equal(p56.seeds, 2);
      assert.equal(p56.diverged, 1);
      assert.deepEqual(p56.final_train_error.values, [0.4]);
      assert.match(verdicts(networksOf(dir)).lines[0], /^plain-56: 1 of 2 seeds diverged and is left out of its errors\.$/);
    });
  });

  it('leaves out (and names) a seed that has not reached its end, unless asked to include it', async () => {
    await withTempDir((dir) => {
      const a = writeRun(join(dir, 'a'), fourNets(1, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.25 }));
      const b = writeRun(join(dir, 'b'), fourNets(2, { p20: 0.5, p56: 0.6, r20: 0.5, r56: 0.5 }));
      // Seed 2 stopped at step 60 of 100: cut its file there, as an interrupted run leaves it.
      const csv = readFileSync(join(b, 'metrics.csv'), 'utf8').split('\n');
      writeFileSync(join(b, 'metrics.csv'), csv.filter((line, i) => i === 0 || (line !== '' && Number(line.split(',')[3]) <= 60)).join('\n') + '\n');
      const runs = loadRuns([a, b]);
      assert.ok(runs.ok, runs.ok ? '' : runs.error);
      const { networks, warnings } = aggregate(runs.value);
      const p20 = net(networks, 'plain', 20);
      assert.equal(p20.seeds, 1);
      assert.equal(p20.unfinished, 0);
      assert.deepEqual(p20.final_train_error.values, [0.3]);
      assert.equal(warnings.length, 4);
      assert.match(warnings[0], /^plain-20 seed 2 in .*b is unfinished \(last row at step 60: .*\); left out$/);

      const included = aggregate(runs.value, process.cwd(), { includeUnfinished: true });
      const p20all = net(included.networks, 'plain', 20);
      assert.equal(p20all.seeds, 2);
      assert.equal(p20all.unfinished, 1);
      // "Final" for the unfinished seed is its last 10% so far: rows at 55 and 60 (early error 0.9).
      close(p20all.final_train_error.mean, (0.3 + 0.9) / 2, 'mean with the unfinished seed');
      assert.match(included.warnings[0], /included as if it had ended there/);
    });
  });

  it('reports runs of different settings side by side instead of pooling them as seeds', async () => {
    await withTempDir((dir) => {
      const config = (shortcut: string, seed: number) => ({ name: 'fx', seed, out: `/x/${seed}`, model: { shortcut, depths: [20, 56], width: 16 }, log: { every: seed } });
      const runs = [
        ['a1', 'A', 1, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.26 }],
        ['a2', 'A', 2, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.26 }],
        ['b1', 'B', 1, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.35 }],
      ] as const;
      for (const [name, shortcut, seed, final] of runs) {
        writeRun(join(dir, name), fourNets(seed, final));
        writeFileSync(join(dir, name, 'config.json'), JSON.stringify(config(shortcut, seed)));
      }
      const loaded = loadRuns(runs.map(([name]) => join(dir, name)));
      assert.ok(loaded.ok);
      const report = buildReport(loaded.value);
      assert.deepEqual(
        report.networks.map((n) => [n.setting, `${n.variant}-${n.depth}`, n.seeds]),
        [
          ['model.shortcut=A', 'plain-20', 2], ['model.shortcut=A', 'plain-56', 2], ['model.shortcut=A', 'residual-20', 2], ['model.shortcut=A', 'residual-56', 2],
          ['model.shortcut=B', 'plain-20', 1], ['model.shortcut=B', 'plain-56', 1], ['model.shortcut=B', 'residual-20', 1], ['model.shortcut=B', 'residual-56', 1],
        ],
      );
      assert.deepEqual(report.verdicts.comparisons.map((c) => [c.setting, c.fixes[0].outcome]), [['model.shortcut=A', 'full'], ['model.shortcut=B', 'partial']]);
      assert.match(report.verdicts.lines[0], /^\[model\.shortcut=A\] Degradation observed/);
      assert.deepEqual(report.warnings, []);
    });
  });

  it('leaves out a last line cut short by an interrupted write, with a warning', async () => {
    await withTempDir((dir) => {
      writeRun(dir, fourNets(1, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.25 }));
      appendFileSync(join(dir, 'metrics.csv'), '2,plain,20,5,0.5,0.1,1.8');
      const run = readRun(dir);
      assert.ok(run.ok, run.ok ? '' : run.error);
      assert.equal(run.value.warnings.length, 1);
      assert.match(run.value.warnings[0], /metrics\.csv: line \d+ is cut short .*left out/);
      assert.ok(run.value.rows.every((r) => r.seed === 1));
    });
  });

  it('refuses values no run writes, naming file, line and column; a diverged row keeps its NaN loss', async () => {
    await withTempDir((dir) => {
      const header = 'seed,variant,depth,step,epoch,lr,train_loss,train_error,test_loss,test_error,images_per_sec,wall_seconds,status\n';
      const good = '1,plain,20,10,0.1,0.1,2.3,0.8,,,100,1,training\n';
      const cases: [string, string, RegExp][] = [
        // test_error 7.5 and -3 printed as 750 % and -300 %; NaN as NaN %.
        ['error75', '1,plain,20,20,0.2,0.1,2.2,0.7,2.1,7.5,100,2,training\n', /line 3: column test_error: not an error rate in \[0, 1\] \("7\.5"\)/],
        ['errorneg', '1,plain,20,20,0.2,0.1,2.2,-3,,,100,2,training\n', /line 3: column train_error: not an error rate in \[0, 1\] \("-3"\)/],
        ['errornan', '1,plain,20,20,0.2,0.1,2.2,0.7,2.1,NaN,100,2,training\n', /line 3: column test_error: not an error rate/],
        ['lossneg', '1,plain,20,20,0.2,0.1,-2.2,0.7,,,100,2,training\n', /line 3: column train_loss: a negative loss/],
        ['lossnan', '1,plain,20,20,0.2,0.1,NaN,0.7,,,100,2,training\n', /line 3: column train_loss: not finite, in a row whose status is training/],
        ['variant', '1,resnet,20,20,0.2,0.1,2.2,0.7,,,100,2,training\n', /line 3: column variant: .*"resnet"/],
        ['depth', '1,plain,21,20,0.2,0.1,2.2,0.7,,,100,2,training\n', /line 3: column depth: must be 6n\+2/],
        ['wall', '1,plain,20,20,0.2,0.1,2.2,0.7,,,100,Infinity,training\n', /line 3: column wall_seconds: not a finite time/],
        ['repeat', good, /line 3: plain-20 seed 1 at step 10 repeats step 10 \(line 2\); steps must increase/],
        ['back', '1,plain,20,5,0.05,0.1,2.2,0.7,,,100,2,training\n', /line 3: plain-20 seed 1 at step 5 goes back from step 10/],
        ['afterdone', '1,plain,20,20,0.2,0.1,2.2,0.7,2.1,0.6,100,2,done\n1,plain,20,30,0.3,0.1,2.2,0.7,,,100,3,training\n', /line 4: plain-20 seed 1 has a row after its done row \(line 3\)/],
      ];
      for (const [name, rest, message] of cases) {
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, 'metrics.csv'), header + good + rest);
        const run = readRun(join(dir, name), dir);
        assert.equal(run.ok, false, name);
        if (!run.ok) assert.match(run.error, new RegExp(`^${name}/metrics\\.csv: ${message.source}`), name);
      }
      // Other seeds and networks interleave freely; each keeps its own order. A diverged row holds a NaN loss.
      mkdirSync(join(dir, 'fine'));
      writeFileSync(
        join(dir, 'fine', 'metrics.csv'),
        header + good + '1,residual,20,10,0.1,0.1,2.3,0.8,,,100,1,training\n2,plain,20,10,0.1,0.1,2.3,0.8,,,100,1,training\n' +
          '1,plain,20,15,0.15,0.1,NaN,0.9,,,100,1,diverged\n1,residual,20,20,0.2,0.1,2.0,0.6,1.9,0.55,100,2,done\n',
      );
      const fine = readRun(join(dir, 'fine'), dir);
      assert.ok(fine.ok, fine.ok ? '' : fine.error);
      assert.equal(fine.value.rows.length, 5);
    });
  });

  it('warns when the same seed of a network comes from two folders', async () => {
    await withTempDir((dir) => {
      const a = writeRun(join(dir, 'a'), fourNets(1, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.25 }));
      const b = writeRun(join(dir, 'b'), fourNets(1, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.25 }));
      const runs = loadRuns([a, b]);
      assert.ok(runs.ok);
      const { networks, warnings } = aggregate(runs.value);
      assert.equal(net(networks, 'plain', 20).seeds, 2);
      assert.equal(warnings.length, 4);
      assert.match(warnings[0], /seed 1 is in 2 run folders/);
    });
  });

  it('expands a sweep folder to the run folders its sweep.json lists', async () => {
    await withTempDir((dir) => {
      const run = (index: number, folder: string) => ({ index, folder, values: { seed: index + 1 }, config: configSchema.parse({ seed: index + 1 }) });
      const sweep = { version: 1, created: 'now', cwd: dir, command: ['sweep'], grid: [{ key: 'seed', values: [1, 2, 3] }], runs: [run(0, 'runs/s1'), run(1, 'runs/s2'), run(2, 'runs/pending')] };
      writeFileSync(join(dir, 'sweep.json'), JSON.stringify(sweep));
      writeRun(join(dir, 'runs', 's1'), fourNets(1, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.25 }));
      writeRun(join(dir, 'runs', 's2'), fourNets(2, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.25 }));
      mkdirSync(join(dir, 'runs', 'pending')); // not started yet: no metrics.csv, skipped
      // An abandoned earlier attempt kept beside the runs is not a seed.
      writeRun(join(dir, '.attempts', 's2-old'), fourNets(2, { p20: 0.9, p56: 0.9, r20: 0.9, r56: 0.9 }));
      const networks = networksOf(dir);
      assert.equal(net(networks, 'plain', 56).seeds, 2);
    });
  });
});

describe('verdicts', () => {
  const judge = async (final: Parameters<typeof fourNets>[1]) =>
    withTempDir((dir) => verdicts(networksOf(writeRun(dir, fourNets(1, final)))));

  it('degradation, fully removed by shortcuts', async () => {
    const v = await judge({ p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.25 });
    const [c] = v.comparisons;
    assert.equal(c.shallow_depth, 20);
    assert.equal(c.deep_depth, 56);
    assert.equal(c.degradation.outcome, 'observed');
    close(c.degradation.gap, 0.1, 'gap');
    assert.equal(c.fixes[0].variant, 'residual');
    assert.equal(c.fixes[0].outcome, 'full');
    close(c.fixes[0].below_plain_by, 0.15, 'below plain');
    close(c.fixes[0].recovered, 1.5, 'recovered');
    assert.match(v.lines[0], /^Degradation observed: plain-56 40\.00% vs plain-20 30\.00%/);
    assert.match(v.lines[1], /residual removes it fully/);
  });

  it('degradation, partly removed: deeper residual above the shallower one but well below deeper plain', async () => {
    const v = await judge({ p20: 0.3, p56: 0.45, r20: 0.28, r56: 0.35 });
    const fix = v.comparisons[0].fixes[0];
    assert.equal(v.comparisons[0].degradation.outcome, 'observed');
    assert.equal(fix.outcome, 'partial');
    close(fix.below_plain_by, 0.1, 'below plain');
    close(fix.recovered, 0.1 / 0.15, 'recovered');
    assert.match(v.lines[1], /removes it partly.*still 7\.00 points above residual-20/);
  });

  it('degradation not removed when the deeper residual is not well below the deeper plain net', async () => {
    const v = await judge({ p20: 0.3, p56: 0.45, r20: 0.28, r56: 0.44 });
    assert.equal(v.comparisons[0].fixes[0].outcome, 'none');
    assert.match(v.lines[1], /does not remove it/);
  });

  it('no degradation: the deeper plain net trains better; nothing for shortcuts to remove', async () => {
    const v = await judge({ p20: 0.3, p56: 0.25, r20: 0.28, r56: 0.22 });
    assert.equal(v.comparisons[0].degradation.outcome, 'not-observed');
    assert.equal(v.comparisons[0].fixes[0].outcome, 'not-applicable');
    assert.match(v.lines[0], /^No degradation/);
  });

  it('with one seed, a gap under 2 points is not called degradation', async () => {
    const v = await judge({ p20: 0.3, p56: 0.31, r20: 0.28, r56: 0.25 });
    assert.equal(v.comparisons[0].degradation.outcome, 'within-noise');
    assert.match(v.lines[0], /within the 2 points one seed cannot resolve/);
  });

  it('a gap inside the seeds’ spread is not called degradation', async () => {
    await withTempDir((dir) => {
      // plain-56 over two seeds: 0.28 and 0.36 (mean 0.32, std 0.057) against plain-20 at 0.30: gap 0.02 < spread.
      writeRun(dir, [fourNets(1, { p20: 0.3, p56: 0.28, r20: 0.28, r56: 0.25 }), fourNets(2, { p20: 0.3, p56: 0.36, r20: 0.28, r56: 0.25 })]);
      const v = verdicts(networksOf(dir));
      assert.equal(v.comparisons[0].degradation.outcome, 'within-noise');
      close(v.comparisons[0].degradation.noise, Math.sqrt(2 * 0.04 ** 2), 'noise');
    });
  });

  it('compares every deeper depth with the shallowest, and says when there is only one depth', async () => {
    await withTempDir((dir) => {
      writeRun(dir, {
        seed: 1,
        iterations: 20,
        logEvery: 2,
        nets: [20, 32, 44].flatMap((depth, i) => [
          { variant: 'plain', depth, final: 0.3 + 0.05 * i },
          { variant: 'preact', depth, final: 0.3 - 0.01 * i },
        ]),
      });
      const v = verdicts(networksOf(dir));
      assert.deepEqual(v.comparisons.map((c) => [c.shallow_depth, c.deep_depth, c.degradation.outcome, c.fixes[0].variant, c.fixes[0].outcome]), [
        [20, 32, 'observed', 'preact', 'full'],
        [20, 44, 'observed', 'preact', 'full'],
      ]);
    });
    await withTempDir((dir) => {
      writeRun(dir, { seed: 1, iterations: 20, logEvery: 2, nets: [{ variant: 'plain', depth: 20, final: 0.3 }] });
      assert.deepEqual(verdicts(networksOf(dir)).lines, ['Only one plain depth (20): degradation needs two depths to compare.']);
    });
  });
});

describe('resnet-exp report (CLI)', () => {
  it('prints the table and verdicts, and --json gives the same as one object', async () => {
    await withTempDir(async (dir) => {
      const a = writeRun(join(dir, 'a'), [fourNets(1, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.25 }), fourNets(2, { p20: 0.32, p56: 0.42, r20: 0.28, r56: 0.27 })]);
      const b = writeRun(join(dir, 'b'), fourNets(3, { p20: 0.34, p56: 0.44, r20: 0.28, r56: 0.29 }));
      const text = await cli(['report', 'a', 'b'], dir);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /plain-20\s+3\s+20\.0k\s+32\.00 ± 2\.00\s+42\.00 ± 1\.00/);
      assert.match(text.stdout, /Degradation observed: plain-56 42\.00% ± 2\.00 vs plain-20 32\.00% ± 2\.00/);
      assert.match(text.stdout, /residual removes it fully/);

      const json = await cli(['report', a, b, '--json'], dir);
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(json.stdout) as Report;
      assert.deepEqual(Object.keys(report).sort(), ['definitions', 'networks', 'runs', 'verdicts', 'warnings']);
      assert.deepEqual(report.definitions.final_window, 0.1);
      assert.equal(report.networks.length, 4);
      assert.deepEqual(Object.keys(report.networks[0]).sort(), [
        'best_test_error', 'best_test_step', 'depth', 'diverged', 'final_test_error', 'final_train_error', 'params', 'seed_list', 'seeds', 'setting',
        'unfinished', 'variant',
      ]);
      assert.deepEqual(Object.keys(report.networks[0].final_train_error).sort(), ['mean', 'std', 'values']);
      assert.equal(report.verdicts.comparisons[0].degradation.outcome, 'observed');
      assert.equal(report.verdicts.lines.length, 2);
      assert.equal(json.stderr, '');
    });
  });

  it('a warning is a warning: `resnet-exp: warning: …`, not an error, and exit 0', async () => {
    await withTempDir(async (dir) => {
      writeRun(join(dir, 'torn'), fourNets(1, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.25 }));
      appendFileSync(join(dir, 'torn', 'metrics.csv'), '1,plain,20,5,0.5,0.1,1.8');
      const r = await cli(['report', 'torn'], dir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^resnet-exp: warning: torn\/metrics\.csv: line \d+ is cut short/);
      assert.doesNotMatch(r.stderr, /error/);
    });
  });

  it('bad input: one line on stderr and exit 2', async () => {
    await withTempDir(async (dir) => {
      mkdirSync(join(dir, 'empty'));
      const bad = (name: string, csv: string) => {
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, 'metrics.csv'), csv);
      };
      const header = 'seed,variant,depth,step,epoch,lr,train_loss,train_error,test_loss,test_error,images_per_sec,wall_seconds,status\n';
      bad('notnumber', `${header}1,plain,20,10,1,0.1,2.3,abc,,,100,1,training\n`);
      bad('ragged', `${header}1,plain,20,10,1,0.1,2.3,0.5,,,100,1,training,extra\n`);
      bad('headeronly', header);
      bad('othercsv', 'a,b\n1,2\n');
      bad('impossible', `${header}1,plain,20,10,1,0.1,2.3,0.5,2.2,7.5,100,1,training\n`);
      for (const [name, lr] of [['lr1', 0.1], ['lr2', 0.05]] as const) {
        writeRun(join(dir, name), fourNets(1, { p20: 0.3, p56: 0.4, r20: 0.28, r56: 0.25 }));
        writeFileSync(join(dir, name, 'config.json'), JSON.stringify({ name, train: { lr } }));
      }
      const cases: [string[], RegExp][] = [
        [['report', 'missing'], /missing: no such folder/],
        [['report', 'empty'], /empty: no metrics\.csv here/],
        [['report', 'notnumber'], /notnumber\/metrics\.csv: line 2: column train_error: not a number/],
        [['report', 'ragged'], /ragged\/metrics\.csv: malformed CSV/],
        [['report', 'headeronly'], /no rows yet/],
        [['report', 'othercsv'], /missing column\(s\) seed/],
        [['plot', 'missing'], /no such folder/],
        [['plot', 'notnumber', '-o', 'x.png'], /not a number/],
        [['plot', 'lr1', 'lr2', '-o', 'x.png'], /different experiments \(train\.lr=0\.1 \| train\.lr=0\.05\)/],
        [['report', 'impossible'], /impossible\/metrics\.csv: line 2: column test_error: not an error rate in \[0, 1\] \("7\.5"\)/],
        [['plot', 'impossible', '-o', 'x.png'], /impossible\/metrics\.csv: line 2: column test_error: not an error rate/],
      ];
      for (const [args, message] of cases) {
        const r = await cli(args, dir);
        assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
        assert.match(r.stderr, /^resnet-exp: error: /);
        assert.match(r.stderr, message);
      }
    });
  });
});
