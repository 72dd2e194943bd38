import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { commandExitCode } from './command.js';
import { benchCommand } from './commands/bench.js';
import { describeCommand } from './commands/describe.js';
import { doctorCommand } from './commands/doctor.js';
import { fetchCommand } from './commands/fetch.js';
import { plotCommand } from './commands/plot.js';
import { reportCommand } from './commands/report.js';
import { resumeCommand } from './commands/resume.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { sweepCommand } from './commands/sweep.js';
import { validateCommand } from './commands/validate.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { printError } from './io.js';

const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Thrown from yargs' fail handler so that no command runs after a parse error. */
class ParseFailure extends Error {}

export async function main(argv: string[]): Promise<ExitCode> {
  try {
    await parse(argv);
  } catch (e) {
    if (!(e instanceof ParseFailure)) throw e;
    // yargs reports each problem it finds; the first is the one to fix. Bad flags are bad input: exit 2.
    printError(`${e.message} (see resnet-exp --help)`);
    return EXIT.badInput;
  }
  return commandExitCode();
}

async function parse(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('resnet-exp')
    .usage('$0 <command> [options]\n\nTrain plain and residual CIFAR networks side by side (He et al. 2015) and write their error curves.')
    .command(runCommand)
    .command(resumeCommand)
    .command(validateCommand)
    .command(describeCommand)
    .command(doctorCommand)
    .command(fetchCommand)
    .command(plotCommand)
    .command(reportCommand)
    .command(sweepCommand)
    .command(benchCommand)
    .command(serveCommand)
    .demandCommand(1, 'give a command, e.g. resnet-exp run configs/smoke.json')
    .strict()
    .version(version)
    .help()
    .alias('h', 'help')
    .epilogue('Exit codes: 0 ok, 1 a run failed, 2 bad input, 130 interrupted. See README.md.')
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((message, error) => {
      throw error ?? new ParseFailure(message);
    })
    .parseAsync();
}
