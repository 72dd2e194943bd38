import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { InputError } from '../result.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { printError, type CliIo } from './io.js';

/**
 * A subcommand: yargs parses, `run` does the work in the library and returns the exit code. Whatever it throws
 * goes to the one error boundary in main.ts. One file per command under src/cli/commands, registered in main.ts.
 */
export interface CommandSpec<A> {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<A>;
  run: (args: ArgumentsCamelCase<A>, io: CliIo) => ExitCode | Promise<ExitCode>;
}

export const defineCommand = <A>(spec: CommandSpec<A>): CommandSpec<A> => spec;

/** The yargs module of a command bound to one invocation's io; `settle` receives the exit code it returns. */
export function commandModule<A>(spec: CommandSpec<A>, io: CliIo, settle: (code: ExitCode) => void): CommandModule<object, A> {
  return {
    command: spec.command,
    describe: spec.describe,
    builder: spec.builder,
    handler: async (args) => settle(await spec.run(args, io)),
  };
}

/** Thrown from yargs' fail handler so that no command runs after a parse error. */
export class ParseFailure extends Error {}

/**
 * The error boundary: what a parse or a command threw, as an exit code and one line per problem on stderr.
 * Bad flags and bad input exit 2; anything else is a failed run (1), with the stack under RESNET_EXP_DEBUG.
 */
export function exitCodeFor(e: unknown, io: CliIo): ExitCode {
  if (e instanceof ParseFailure) {
    // yargs reports each problem it finds; the first is the one to fix.
    printError(io, `${e.message} (see resnet-exp --help)`);
    return EXIT.badInput;
  }
  if (e instanceof InputError) {
    printError(io, e.message);
    return EXIT.badInput;
  }
  const text = e instanceof Error ? (io.env.RESNET_EXP_DEBUG ? (e.stack ?? e.message) : e.message.split('\n')[0]) : String(e);
  printError(io, text);
  return EXIT.failed;
}
