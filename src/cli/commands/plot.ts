import { extname, join, resolve } from 'node:path';
import { curves, type CurveMetric } from '../../report/aggregate.js';
import { loadRuns } from '../../report/read-run.js';
import { writeFileAtomic } from '../../report/run-folder.js';
import { InputError } from '../../result.js';
import { defineCommand } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printLine } from '../io.js';

export interface PlotArgs {
  runDirs: string[];
  output?: string;
  metric: CurveMetric;
  width: number;
  height: number;
  title?: string;
}

const MAX_SIDE = 10_000;

async function plot(args: PlotArgs): Promise<ExitCode> {
  // yargs turns a repeated flag into an array; each of these takes one value.
  for (const [flag, v] of [['-o', args.output], ['--metric', args.metric], ['--width', args.width], ['--height', args.height], ['--title', args.title]] as const) {
    if (Array.isArray(v)) throw new InputError(`${flag} given ${v.length} times: give it once`);
  }
  const out = resolve(args.output ?? join(args.runDirs[0], 'curves.svg'));
  const ext = extname(out).toLowerCase();
  if (ext !== '.svg' && ext !== '.png') throw new InputError(`-o ${args.output}: give a file ending in .svg or .png`);
  for (const [flag, v] of [['--width', args.width], ['--height', args.height]] as const) {
    if (!Number.isInteger(v) || v < 100 || v > MAX_SIDE) throw new InputError(`${flag} ${v}: give a whole number of pixels from 100 to ${MAX_SIDE}`);
  }
  const runs = loadRuns(args.runDirs);
  if (!runs.ok) throw new InputError(runs.error);
  const points = curves(runs.value, args.metric);
  if (points.length === 0) throw new InputError(`no finite ${args.metric} values in ${args.runDirs.join(', ')}: nothing to plot`);
  const names = [...new Set(runs.value.map((r) => r.name).filter((n): n is string => n !== undefined))];
  // vega and resvg take a moment to load: only this command needs them.
  const { renderFigure } = await import('../../report/plot.js');
  const figure = await renderFigure(points, ext === '.png' ? 'png' : 'svg', {
    metric: args.metric,
    width: args.width,
    height: args.height,
    title: args.title ?? (names.length > 0 ? `${names.join(', ')}: training (dashed) and test (solid) ${args.metric}` : undefined),
  });
  if (!figure.ok) throw new InputError(figure.error);
  try {
    writeFileAtomic(out, figure.value);
  } catch (e) {
    throw new InputError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  printLine(out);
  return EXIT.ok;
}

export const plotCommand = defineCommand({
  command: 'plot <runDirs..>',
  describe: "Error curves in the style of the paper's Fig. 6: a panel per variant, a colour per depth, seeds as mean and min–max band",
  builder: (y) =>
    y
      .positional('runDirs', { describe: 'run folders (or sweep folders); several seeds pool into mean and band', type: 'string', array: true, demandOption: true })
      .option('output', { alias: 'o', type: 'string', describe: 'figure file, .svg or .png (default <first run folder>/curves.svg)' })
      .option('metric', { choices: ['error', 'loss'] as const, default: 'error' as CurveMetric, describe: 'what the y axis shows' })
      .option('width', { type: 'number', default: 1000, describe: 'figure width in pixels' })
      .option('height', { type: 'number', default: 420, describe: 'figure height in pixels' })
      .option('title', { type: 'string', describe: 'figure title (default: the runs\' config names)' })
      .example('$0 plot runs/fig6-cpu -o fig6.png', 'the Fig. 6 comparison as a PNG')
      .example('$0 plot runs/s1 runs/s2 runs/s3 --metric loss', 'three seeds pooled; loss curves to runs/s1/curves.svg'),
  run: (args) =>
    plot({ runDirs: args.runDirs as string[], output: args.output, metric: args.metric, width: args.width, height: args.height, title: args.title }),
});
