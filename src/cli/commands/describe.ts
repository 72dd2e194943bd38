import { describeInput } from '../../data/load.js';
import { InputError } from '../../result.js';
import { defineCommand } from '../command.js';
import { resolveConfig, withConfigOverrides, type ConfigArgs } from '../config-options.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../io.js';

export interface DescribeRow {
  variant: string;
  depth: number;
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

/** Parameter count and multiply-adds per image of every (variant, depth) network of a config, for its data set. */
export async function describeNetworks(args: ConfigArgs): Promise<{ data: string; rows: DescribeRow[] }> {
  const config = resolveConfig(args);
  const input = describeInput(config.data);
  if (!input.ok) throw new InputError(input.error);
  const { height, width, classes } = input.value;
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const { buildNetwork, networkSpecs, totalCost, weightedLayers } = await import('../../models/index.js');
  tf.env().set('PROD', true);
  // Shapes and counts don't depend on the backend; the always-present cpu one builds the nets fastest.
  await tf.setBackend('cpu');
  const rows = networkSpecs(config, { height, width, classes }).map((spec): DescribeRow => {
    const net = buildNetwork(spec, config.seed);
    const cost = totalCost(net.costs);
    net.params.dispose();
    const { variant, depth } = spec;
    const { block, shortcut } = config.model;
    return { variant, depth, block, shortcut, params: cost.params, macs: cost.macs, layers: weightedLayers(net.costs), classes, input: [height, width] };
  });
  return { data: `${input.value.description}: ${classes} classes, ${height}x${width} input`, rows };
}

async function printDescription(args: ConfigArgs & { json: boolean }): Promise<ExitCode> {
  const { data, rows } = await describeNetworks(args);
  if (args.json) {
    printJson(rows);
    return EXIT.ok;
  }
  printLine(`data: ${data}`);
  if (rows.length > 0) printLine(`blocks: ${rows[0].block}, shortcut option ${rows[0].shortcut}`);
  const name = (r: DescribeRow) => `${r.variant}-${r.depth}`;
  const nameWidth = Math.max(14, ...rows.map((r) => name(r).length + 2));
  printLine(`${'network'.padEnd(nameWidth)}${'params'.padStart(12)}${'MACs/image'.padStart(14)}${'weighted layers'.padStart(17)}`);
  for (const r of rows) {
    printLine(
      `${name(r).padEnd(nameWidth)}${r.params.toLocaleString('en-US').padStart(12)}` +
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
      .option('json', { type: 'boolean', default: false, describe: 'a JSON array of {variant, depth, block, shortcut, params, macs, layers, classes, input}' })
      .example('$0 describe --depth 20,32,44,56,110', 'the CIFAR family of Table 6')
      .example('$0 describe --set data.source=cifar100', 'the same nets with a 100-class classifier')
      .example('$0 describe configs/cifar-preact164.json --depth 164,1001', 'the 2016 paper\'s bottleneck nets'),
  run: (args) => printDescription(args),
});
