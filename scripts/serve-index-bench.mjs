#!/usr/bin/env node
// How fast the dashboard's index answers for many large runs, and how much memory the server keeps.
// Writes RUNS run folders of ROWS metrics rows each (4 networks, one row per network per step) into a temporary
// folder, starts the dashboard on it in this process, reads everything once (the first read), then times the
// index. Needs a build (npx tsc -p tsconfig.json).
//
//   node scripts/serve-index-bench.mjs [--runs 200] [--rows 100000] [--repeat 5]
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { METRICS_COLUMNS } from '../dist/src/report/metrics-csv.js';
import { startDashboard } from '../dist/src/serve/index.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' }, rows: { type: 'string', default: '100000' }, repeat: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const rows = Number(values.rows);
const repeat = Number(values.repeat);
const nets = [['plain', 20], ['plain', 56], ['residual', 20], ['residual', 56]];
const steps = Math.ceil(rows / nets.length);

const root = mkdtempSync(join(tmpdir(), 'resnet-exp-serve-bench-'));
const mib = (b) => (b / 2 ** 20).toFixed(0);
try {
  let t = performance.now();
  let bytes = 0;
  for (let r = 0; r < runs; r++) {
    const dir = join(root, `run-${String(r).padStart(3, '0')}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ name: `bench-${r}`, seed: r, train: { iterations: steps }, run: { backend: 'onednn', started: new Date().toISOString() } }));
    const fd = openSync(join(dir, 'metrics.csv'), 'w');
    let text = `${METRICS_COLUMNS.join(',')}\n`;
    for (let step = 1, n = 0; step <= steps; step++) {
      for (const [variant, depth] of nets) {
        if (n++ >= rows) break;
        const e = (0.9 * Math.exp(-step / (steps / 3)) + 0.05 * Math.sin(step + r)).toFixed(5);
        const test = step % 100 === 0 ? `${(Number(e) * 2).toFixed(5)},${(Number(e) + 0.05).toFixed(5)}` : ',';
        text += `${r},${variant},${depth},${step},${(step / 390).toFixed(4)},0.1,${(Number(e) * 2).toFixed(5)},${e},${test},812.3,${(step * 0.05).toFixed(2)},${step === steps ? 'done' : 'training'}\n`;
      }
      if (text.length > 1 << 20) {
        bytes += writeSync(fd, text);
        text = '';
      }
    }
    bytes += writeSync(fd, text);
    closeSync(fd);
  }
  console.log(`wrote ${runs} runs x ${rows} rows (${mib(bytes)} MiB of metrics.csv) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const started = await startDashboard({ roots: [root], cwd: root, host: '127.0.0.1', port: 0 });
  if (!started.ok) throw new Error(started.error);
  const dashboard = started.value;
  const index = async () => {
    const res = await fetch(`${dashboard.url}api/runs`);
    return res.json();
  };
  t = performance.now();
  for (;;) {
    const body = await index();
    if (body.runs.length === runs && body.runs.every((x) => x.loading === null && x.rows === rows)) break;
  }
  console.log(`first read (every file parsed and checked): ${((performance.now() - t) / 1000).toFixed(1)} s`);
  global.gc?.();
  const times = [];
  for (let i = 0; i < repeat; i++) {
    t = performance.now();
    const body = await index();
    times.push(performance.now() - t);
    if (body.runs.length !== runs) throw new Error('runs missing');
  }
  times.sort((a, b) => a - b);
  console.log(`index after the first read: median ${times[Math.floor(times.length / 2)].toFixed(0)} ms, max ${times.at(-1).toFixed(0)} ms over ${repeat} requests`);
  const mem = process.memoryUsage();
  console.log(`server memory: rss ${mib(mem.rss)} MiB, heap used ${mib(mem.heapUsed)} MiB`);
  await dashboard.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}
