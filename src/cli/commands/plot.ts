import { extname, join, resolve } from 'node:path';
import { curves, replicates, unfinishedWarnings, type CurveMetric } from '../../report/aggregate.js';
import { loadDiagnostics } from '../../report/diagnostics-runs.js';
import { loadRuns } from '../../report/read-run.js';
import { writeFileAtomic } from '../../record/durable.js';
import { InputError } from '../../result.js';
import { defineCommand } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printLine, printWarning, type CliIo } from '../io.js';

export const PLOT_KINDS = ['curves', 'responses', 'gradients'] as const;
export type PlotKind = (typeof PLOT_KINDS)[number];

export interface PlotArgs {
  runDirs: string[];
  output?: string;
  /** `curves`: Fig. 6 from metrics.csv; `responses`, `gradients`: per-layer figures from diagnostics.csv. */
  kind: PlotKind;
  /** `gradients`/`responses`: the diagnostics steps to draw, e.g. "100,1000". */
  steps?: string;
  metric: CurveMetric;
  width: number;
  height: number;
  title?: string;
}

const MAX_SIDE = 10_000;

async function plot(args: PlotArgs, io: CliIo): Promise<ExitCode> {
  // yargs turns a repeated flag into an array; each of these takes one value.
  for (const [flag, v] of [['-o', args.output], ['--kind', args.kind], ['--steps', args.steps], ['--metric', args.metric], ['--width', args.width], ['--height', args.height], ['--title', args.title]] as const) {
    if (Array.isArray(v)) throw new InputError(`${flag} given ${v.length} times: give it once`);
  }
  const out = resolve(io.cwd, args.output ?? join(args.runDirs[0], `${args.kind}.svg`));
  const ext = extname(out).toLowerCase();
  if (ext !== '.svg' && ext !== '.png') throw new InputError(`-o ${args.output}: give a file ending in .svg or .png`);
  for (const [flag, v] of [['--width', args.width], ['--height', args.height]] as const) {
    if (!Number.isInteger(v) || v < 100 || v > MAX_SIDE) throw new InputError(`${flag} ${v}: give a whole number of pixels from 100 to ${MAX_SIDE}`);
  }
  if (args.kind !== 'curves') return plotDiagnostics(args, io, out, ext === '.png' ? 'png' : 'svg');
  if (args.steps !== undefined) throw new InputError('--steps: only for --kind gradients or responses');
  const runs = loadRuns(args.runDirs, io.cwd);
  if (!runs.ok) throw new InputError(runs.error);
  const reps = replicates(runs.value);
  const settings = [...new Set(reps.map((r) => r.setting))];
  if (settings.some((s) => s !== null)) {
    throw new InputError(`the runs are different experiments (${settings.join(' | ')}); a figure pools its runs as seeds: plot each setting on its own`);
  }
  for (const w of [...runs.value.flatMap((r) => r.warnings), ...unfinishedWarnings(reps, true, io.cwd)]) printWarning(io, w);
  if (curves(runs.value, args.metric).length === 0) throw new InputError(`no finite ${args.metric} values in ${args.runDirs.join(', ')}: nothing to plot`);
  const names = [...new Set(runs.value.map((r) => r.name).filter((n): n is string => n !== undefined))];
  // vega and resvg take a moment to load: only this command needs them.
  const { renderFigure } = await import('../../report/plot.js');
  const figure = await renderFigure(runs.value.flatMap((r) => r.rows), ext === '.png' ? 'png' : 'svg', {
    metric: args.metric,
    width: args.width,
    height: args.height,
    title: args.title ?? (names.length > 0 ? `${names.join(', ')}: training (dashed) and test (solid) ${args.metric}` : undefined),
  });
  if (!figure.ok) throw new InputError(figure.error);
  return writeFigure(io, out, figure.value);
}

/** `--steps 100,1000` as whole numbers. */
function parseSteps(text: string): number[] {
  const steps = text.split(',').map((s) => s.trim());
  if (steps.some((s) => !/^\d+$/.test(s) || Number(s) === 0)) throw new InputError(`--steps ${text}: give iterations as positive whole numbers, comma-separated (e.g. 100,1000)`);
  return [...new Set(steps.map(Number))].sort((a, b) => a - b);
}

async function plotDiagnostics(args: PlotArgs, io: CliIo, out: string, format: 'svg' | 'png'): Promise<ExitCode> {
  const steps = args.steps === undefined ? undefined : parseSteps(args.steps);
  const runs = loadDiagnostics(args.runDirs, io.cwd);
  if (!runs.ok) throw new InputError(runs.error);
  const { layerPoints, renderDiagnosticsFigure } = await import('../../report/diagnostics-figures.js');
  const points = layerPoints(runs.value, args.kind === 'responses' ? 'response_std' : 'grad_norm', steps);
  if (!points.ok) throw new InputError(points.error);
  const names = [...new Set(runs.value.map((r) => r.name).filter((n): n is string => n !== undefined))].join(', ');
  const what = args.kind === 'responses' ? 'std of 3x3 layer responses (He et al. 2015, Fig. 7)' : 'per-layer gradient norms';
  const figure = await renderDiagnosticsFigure(args.kind === 'responses' ? 'responses' : 'gradients', points.value, format, {
    width: args.width,
    height: args.height,
    title: args.title ?? (names ? `${names}: ${what}` : what),
  });
  if (!figure.ok) throw new InputError(figure.error);
  return writeFigure(io, out, figure.value);
}

function writeFigure(io: CliIo, out: string, figure: string | Uint8Array): ExitCode {
  try {
    writeFileAtomic(out, figure);
  } catch (e) {
    throw new InputError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  printLine(io, out);
  return EXIT.ok;
}

export const plotCommand = defineCommand({
  command: 'plot <runDirs..>',
  describe:
    "Error curves in the style of the paper's Fig. 6 (a panel per variant, a colour per depth, seeds as mean and min–max band); " +
    'with --kind responses or gradients, per-layer figures from diagnostics.csv (Fig. 7)',
  builder: (y) =>
    y
      .positional('runDirs', { describe: 'run folders (or sweep folders); several seeds pool into mean and band', type: 'string', array: true, demandOption: true })
      .option('output', { alias: 'o', type: 'string', describe: 'figure file, .svg or .png (default <first run folder>/<kind>.svg)' })
      .option('kind', {
        choices: PLOT_KINDS,
        default: 'curves' as PlotKind,
        describe: 'curves: error/loss vs iterations; responses: std of each 3x3 layer\'s output vs layer index (Fig. 7); gradients: gradient norm vs layer index',
      })
      .option('steps', { type: 'string', describe: 'responses/gradients: diagnostics steps to draw, e.g. 100,1000 (default: gradients at the first and last, responses at the last)' })
      .option('metric', { choices: ['error', 'loss'] as const, default: 'error' as CurveMetric, describe: 'what the y axis shows' })
      .option('width', { type: 'number', default: 1000, describe: 'figure width in pixels' })
      .option('height', { type: 'number', default: 420, describe: 'figure height in pixels' })
      .option('title', { type: 'string', describe: 'figure title (default: the runs\' config names)' })
      .example('$0 plot runs/fig6-cpu -o fig6.png', 'the Fig. 6 comparison as a PNG')
      .example('$0 plot runs/s1 runs/s2 runs/s3 --metric loss', 'three seeds pooled; loss curves to runs/s1/curves.svg')
      .example('$0 plot runs/d20 runs/d56 --kind responses -o fig7.png', 'Fig. 7 from two runs made with diagnostics.every set')
      .example('$0 plot runs/d56 --kind gradients --steps 100,1000', 'gradient norm per layer at iterations 100 and 1000'),
  run: (args, io) =>
    plot({ runDirs: args.runDirs as string[], output: args.output, kind: args.kind, steps: args.steps, metric: args.metric, width: args.width, height: args.height, title: args.title }, io),
});
