import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { commandModule, exitCodeFor, ParseFailure, type CommandSpec } from './command.js';
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
import { processIo, type CliIo } from './io.js';

const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * The command line on `io`: every command, --help and --version. `settle` receives the exit code of the command
 * that ran; parse errors and whatever a command throws reject parseAsync (main turns them into exit codes).
 */
export function cli(io: CliIo, settle: (code: ExitCode) => void = () => {}): Argv {
  const bound = <A>(spec: CommandSpec<A>) => commandModule(spec, io, settle);
  return yargs()
    .scriptName('resnet-exp')
    .usage('$0 <command> [options]\n\nTrain plain and residual CIFAR networks side by side (He et al. 2015) and write their error curves.')
    .command(bound(runCommand))
    .command(bound(resumeCommand))
    .command(bound(validateCommand))
    .command(bound(describeCommand))
    .command(bound(doctorCommand))
    .command(bound(fetchCommand))
    .command(bound(plotCommand))
    .command(bound(reportCommand))
    .command(bound(sweepCommand))
    .command(bound(benchCommand))
    .command(bound(serveCommand))
    .demandCommand(1, 'give a command, e.g. resnet-exp run configs/smoke.json')
    .strict()
    .version(version)
    .help()
    .alias('h', 'help')
    .epilogue('Exit codes: 0 ok, 1 a run failed, 2 bad input, 130 interrupted. See README.md.')
    .wrap(Math.min(110, io.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new ParseFailure(message);
    });
}

/** Runs one command line and returns its exit code; the one error boundary: nothing a command throws escapes. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  let output = '';
  try {
    // With a callback, yargs hands --help and --version text back instead of printing it to the console.
    await cli(io, (c) => (code = c)).parseAsync([...argv], {}, (_error, _argv, text) => {
      output = text;
    });
  } catch (e) {
    return exitCodeFor(e, io);
  }
  if (output) io.stdout.write(`${output}\n`);
  return code;
}
