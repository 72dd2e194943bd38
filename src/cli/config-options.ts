import type { Argv } from 'yargs';
import { BACKENDS, loadConfig, parseSet, shorthandOverrides, type Config, type Shorthands } from '../config/index.js';
import { InputError } from '../result.js';
import { printWarning, type CliIo } from './io.js';

/** The flags that override config keys, shared by every command that reads a config. */
export function withConfigOverrides<T>(y: Argv<T>) {
  return y
    .option('set', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'Override any config key: key.path=value (value parsed as JSON when it parses). Repeatable.',
      group: 'Config overrides:',
    })
    .option('depth', { type: 'string', describe: 'model.depth (6n+2; 9n+2 with bottleneck blocks); a comma list sets model.depths', group: 'Config overrides:' })
    .option('seed', { type: 'number', describe: 'seed', group: 'Config overrides:' })
    .option('seeds', { type: 'string', describe: 'seeds: a comma list repeats the comparison per seed', group: 'Config overrides:' })
    .option('iterations', { type: 'number', describe: 'train.iterations', group: 'Config overrides:' })
    .option('backend', { type: 'string', choices: ['auto', ...BACKENDS], describe: 'backend', group: 'Config overrides:' })
    .option('threads', {
      type: 'string',
      describe: 'threads: a count, fixed for the run (default: OMP_NUM_THREADS, else every core), or adaptive (onednn; not bit-reproducible)',
      group: 'Config overrides:',
    })
    .option('data-dir', { type: 'string', describe: 'data.dir (over RESNET_EXP_DATA and the config)', group: 'Config overrides:' })
    .option('out', { type: 'string', describe: 'run folder (default runs/<name>-<UTC time>)', group: 'Config overrides:' })
    .option('name', { type: 'string', describe: 'name', group: 'Config overrides:' });
}

export interface ConfigArgs extends Shorthands {
  config?: string;
  set: string[];
}

/**
 * Config file, then RESNET_EXP_DATA, then flags; validated; relative paths against io.cwd. Problems are thrown as
 * one InputError line each.
 */
export function resolveConfig(args: ConfigArgs, io: CliIo): Config {
  const overrides = [...args.set.map(parseSet), ...shorthandOverrides(args)];
  const loaded = loadConfig({ file: args.config, overrides, dataDirEnv: io.env.RESNET_EXP_DATA, cwd: io.cwd });
  if (!loaded.ok) throw new InputError(loaded.error.join('\n'));
  // Said, not refused: a script may pass one --data-dir to every config it runs. But a researcher who typed it
  // for one run expects that data, and a synthetic run's curves would otherwise pass for CIFAR's.
  if (args.dataDir !== undefined && loaded.value.data.source === 'synthetic') {
    printWarning(io, `--data-dir ${args.dataDir} is not used: the config's data.source is synthetic (set data.source to read it)`);
  }
  return loaded.value;
}
