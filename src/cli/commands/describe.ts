import { configDepths, netSize } from '../../config/index.js';
import { describeInput } from '../../data/load.js';
import { InputError } from '../../result.js';
import { defineCommand } from '../command.js';
import { resolveConfig, withConfigOverrides, type ConfigArgs } from '../config-options.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printJson, printLine, type CliIo } from '../io.js';

export interface DescribeRow {
  variant: string;
  depth: number;
  /** cifar or imagenet. */
  family: string;
  /** basic or bottleneck blocks. */
  block: string;
  /** How shortcuts match dimensions: A, B, C or conv3x3-bn. */
  shortcut: string;
  params: number;
  /** Multiply-adds per input image, forward pass (convolutions and the classifier). */
  macs: number;
  /** Weighted layers the depth counts (convs off the shortcuts and the classifier). */
  layers: number;
  /** Classifier outputs: the data set's classes. */
  classes: number;
  /** Input height and width. */
  input: [number, number];
}

export interface DescribeArgs extends ConfigArgs {
  /** Describe for square inputs of this side instead of the data set's (e.g. ImageNet's 224). */
  inputSize?: number;
  /** Describe with this many classes instead of the data set's (e.g. ImageNet's 1000). */
  classes?: number;
}

/**
 * Parameter count and multiply-adds per image of every (variant, depth) network of a config, for its data set,
 * counted from the architecture rather than built, so that it is instant at any size the schema allows
 * (test/models/net-size.test.ts checks the counts against the built networks').
 */
export function describeNetworks(args: DescribeArgs, io: CliIo): { data: string; rows: DescribeRow[] } {
  for (const [flag, value] of [['input-size', args.inputSize], ['classes', args.classes]] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new InputError(`--${flag} ${value}: expected a positive whole number`);
  }
  const config = resolveConfig(args, io);
  // The data set is read only for what the flags leave open (an image folder needs its files for its classes).
  let data = { description: 'as given', height: 0, width: 0, classes: 0 };
  if (args.inputSize === undefined || args.classes === undefined) {
    const described = describeInput(config.data);
    if (!described.ok) throw new InputError(described.error);
    data = described.value;
  }
  const height = args.inputSize ?? data.height;
  const width = args.inputSize ?? data.width;
  const classes = args.classes ?? data.classes;
  const { family, block, shortcut } = config.model;
  const rows = configDepths(config).flatMap((depth) =>
    config.model.variants.map((variant): DescribeRow => {
      const { params, macs, layers } = netSize({ variant, depth, width: config.model.width, shortcut, family, block }, classes, { height, width });
      return { variant, depth, family, block, shortcut, params, macs, layers, classes, input: [height, width] };
    }),
  );
  const given = args.inputSize !== undefined || args.classes !== undefined ? ' (from the command line)' : '';
  return { data: `${data.description}: ${classes} classes, ${height}x${width} input${given}`, rows };
}

const macsText = (macs: number): string => (macs >= 1e9 ? `${(macs / 1e9).toFixed(2)}G` : `${(macs / 1e6).toFixed(1)}M`);

function printDescription(args: DescribeArgs & { json: boolean }, io: CliIo): ExitCode {
  const { data, rows } = describeNetworks(args, io);
  if (args.json) {
    printJson(io, rows);
    return EXIT.ok;
  }
  printLine(io, `data: ${data}`);
  if (rows.length > 0) printLine(io, `${rows[0].family} family, ${rows[0].block} blocks, shortcut option ${rows[0].shortcut}`);
  const name = (r: DescribeRow) => `${r.variant}-${r.depth}`;
  const nameWidth = Math.max(14, ...rows.map((r) => name(r).length + 2));
  printLine(io, `${'network'.padEnd(nameWidth)}${'params'.padStart(12)}${'MACs/image'.padStart(14)}${'weighted layers'.padStart(17)}`);
  for (const r of rows) {
    printLine(
      io,
      `${name(r).padEnd(nameWidth)}${r.params.toLocaleString('en-US').padStart(12)}` +
        `${macsText(r.macs).padStart(14)}${String(r.layers).padStart(17)}`,
    );
  }
  return EXIT.ok;
}

export const describeCommand = defineCommand({
  command: 'describe [config]',
  describe: 'Parameter count and multiply-adds per image of each network',
  builder: (y) =>
    withConfigOverrides(y.positional('config', { describe: 'config file (YAML or JSON); default: the paper\'s ResNet-20 pair', type: 'string' }))
      .option('json', { type: 'boolean', default: false, describe: 'a JSON array of {variant, depth, family, block, shortcut, params, macs, layers, classes, input}' })
      .option('input-size', { type: 'number', describe: 'square input side to describe the nets for, instead of the data set\'s (e.g. 224)' })
      .option('classes', { type: 'number', describe: 'classifier outputs, instead of the data set\'s classes (e.g. 1000)' })
      .example('$0 describe --depth 20,32,44,56,110', 'the CIFAR family of Table 6')
      .example('$0 describe --set data.source=cifar100', 'the same nets with a 100-class classifier')
      .example('$0 describe configs/cifar-preact164.json --depth 164,1001', 'the 2016 paper\'s bottleneck nets')
      .example('$0 describe configs/fig4-imagenet.json --input-size 224 --classes 1000', 'ResNet-18/34 and plain twins at ImageNet scale'),
  run: (args, io) => printDescription(args, io),
});
