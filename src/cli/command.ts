import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { InputError } from '../result.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { printError } from './io.js';

let exitCode: ExitCode = EXIT.ok;

/** The exit code the command that ran asked for. */
export const commandExitCode = (): ExitCode => exitCode;
export const setExitCode = (code: ExitCode): void => {
  exitCode = code;
};

/** Maps what a command threw to an exit code and one line per problem on stderr. */
export async function guard(action: () => ExitCode | Promise<ExitCode>): Promise<ExitCode> {
  try {
    return await action();
  } catch (e) {
    if (e instanceof InputError) {
      printError(e.message);
      return EXIT.badInput;
    }
    const text = e instanceof Error ? (process.env.RESNET_EXP_DEBUG ? (e.stack ?? e.message) : e.message.split('\n')[0]) : String(e);
    printError(text);
    return EXIT.failed;
  }
}

/**
 * A subcommand: yargs parses, `run` does the work in the library and returns the exit code.
 * One file per command under src/cli/commands, registered in main.ts.
 */
export function defineCommand<A>(spec: {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<A>;
  run: (args: ArgumentsCamelCase<A>) => ExitCode | Promise<ExitCode>;
}): CommandModule<object, A> {
  return {
    command: spec.command,
    describe: spec.describe,
    builder: spec.builder,
    handler: async (args) => {
      setExitCode(await guard(() => spec.run(args)));
    },
  };
}
