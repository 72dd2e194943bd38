import { configDepths, netSize } from '../../config/index.js';
import { describeInput } from '../../data/load.js';
import { InputError } from '../../result.js';
import { defineCommand } from '../command.js';
import { resolveConfig, withConfigOverrides, type ConfigArgs } from '../config-options.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../io.js';

export interface DescribeRow {
  variant: string;
  depth: number;
  params: number;
  /** Multiply-adds per input image, forward pass (convolutions and the classifier). */
  macs: number;
  layers: number;
  /** Classifier outputs: the data set's classes. */
  classes: number;
  /** Input height and width. */
  input: [number, number];
}

/**
 * Parameter count and multiply-adds per image of every (variant, depth) network of a config, for its data set,
 * counted from the architecture rather than built, so that it is instant at any size the schema allows.
 */
export function describeNetworks(args: ConfigArgs): { data: string; rows: DescribeRow[] } {
  const config = resolveConfig(args);
  const input = describeInput(config.data);
  if (!input.ok) throw new InputError(input.error);
  const { height, width, classes } = input.value;
  const shape = { width: config.model.width, shortcut: config.model.shortcut };
  const rows = configDepths(config).flatMap((depth) =>
    config.model.variants.map((variant): DescribeRow => ({
      variant,
      depth,
      ...netSize({ variant, depth, ...shape }, classes, { height, width }),
      classes,
      input: [height, width],
    })),
  );
  return { data: `${input.value.description}: ${classes} classes, ${height}x${width} input`, rows };
}

function printDescription(args: ConfigArgs & { json: boolean }): ExitCode {
  const { data, rows } = describeNetworks(args);
  if (args.json) {
    printJson(rows);
    return EXIT.ok;
  }
  printLine(`data: ${data}`);
  printLine(`${'network'.padEnd(14)}${'params'.padStart(12)}${'MACs/image'.padStart(14)}${'weighted layers'.padStart(17)}`);
  for (const r of rows) {
    printLine(
      `${`${r.variant}-${r.depth}`.padEnd(14)}${`${(r.params / 1e6).toFixed(2)}M`.padStart(12)}` +
        `${`${(r.macs / 1e6).toFixed(1)}M`.padStart(14)}${String(r.layers).padStart(17)}`,
    );
  }
  return EXIT.ok;
}

export const describeCommand = defineCommand({
  command: 'describe [config]',
  describe: 'Parameter count and multiply-adds per image of each network',
  builder: (y) =>
    withConfigOverrides(y.positional('config', { describe: 'config file (YAML or JSON); default: the paper\'s ResNet-20 pair', type: 'string' }))
      .option('json', { type: 'boolean', default: false, describe: 'a JSON array of {variant, depth, params, macs, layers, classes, input}' })
      .example('$0 describe --depth 20,32,44,56,110', 'the CIFAR family of Table 6')
      .example('$0 describe --set data.source=cifar100', 'the same nets with a 100-class classifier'),
  run: (args) => printDescription(args),
});
