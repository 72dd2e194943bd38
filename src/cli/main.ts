import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { InputError } from '../result.js';
import { withConfigOverrides } from './config-options.js';
import { describeCommand } from './commands/describe.js';
import { doctorCommand } from './commands/doctor.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { printError } from './io.js';

const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Maps what a command threw to an exit code and one line per problem on stderr. */
async function guard(action: () => ExitCode | Promise<ExitCode>): Promise<ExitCode> {
  try {
    return await action();
  } catch (e) {
    if (e instanceof InputError) {
      printError(e.message);
      return EXIT.badInput;
    }
    printError(e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, process.env.RESNET_EXP_DEBUG ? undefined : 1).join('\n') : String(e));
    return EXIT.failed;
  }
}

export async function main(argv: string[]): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const configPositional = { describe: 'config file (YAML or JSON)', type: 'string' } as const;
  const cli = yargs(argv)
    .scriptName('resnet-exp')
    .usage('$0 <command> [options]\n\nTrain plain and residual CIFAR networks side by side (He et al. 2015) and write their error curves.')
    .command(
      'run <config>',
      'Train the config\'s plain and residual networks in lockstep; curves to <run folder>/metrics.csv',
      (y) =>
        withConfigOverrides(y.positional('config', configPositional))
          .option('json', { type: 'boolean', default: false, describe: 'print the final summary as JSON on stdout' })
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress; only warnings and errors on stderr' })
          .option('force', { type: 'boolean', default: false, describe: 'reuse an --out folder that already holds a run' })
          .example('$0 run configs/cifar56.json', 'the paper\'s 56-layer comparison')
          .example('$0 run configs/smoke.json --iterations 20 --out runs/try --json', 'a short run, summary as JSON'),
      async (args) => {
        code = await guard(() => runCommand(args));
      },
    )
    .command(
      'validate <config>',
      'Print the resolved config (file + env + flags) as JSON, or its errors',
      (y) => withConfigOverrides(y.positional('config', configPositional)).example('$0 validate configs/cifar56.json --set train.lr=0.05', ''),
      async (args) => {
        code = await guard(() => validateCommand(args));
      },
    )
    .command(
      'describe [config]',
      'Parameter count and multiply-adds per image of each network',
      (y) =>
        withConfigOverrides(y.positional('config', configPositional))
          .option('json', { type: 'boolean', default: false, describe: 'a JSON array of {variant, depth, params, macs}' })
          .example('$0 describe configs/cifar56.json --depth 20,32,44,56,110', ''),
      async (args) => {
        code = await guard(() => describeCommand(args));
      },
    )
    .command(
      'doctor',
      'Which backends can be used here, and why not',
      (y) => y.option('json', { type: 'boolean', default: false }).example('$0 doctor', ''),
      async (args) => {
        code = await guard(() => doctorCommand(args));
      },
    )
    .demandCommand(1, 'give a command, e.g. resnet-exp run configs/smoke.json')
    .strict()
    .version(version)
    .help()
    .alias('h', 'help')
    .epilogue('Exit codes: 0 ok, 1 a run failed, 2 bad input, 130 interrupted. Docs: README.md')
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((message, error) => {
      // Parse errors (unknown flag, missing argument, bad choice) are bad input: one line and exit 2.
      if (error) throw error;
      // yargs reports every problem it finds; the first is the one to fix.
      if (code !== EXIT.badInput) printError(`${message} (see resnet-exp --help)`);
      code = EXIT.badInput;
    });
  await cli.parseAsync();
  return code;
}
