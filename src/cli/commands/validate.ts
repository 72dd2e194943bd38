import { resolveConfig, type ConfigArgs } from '../config-options.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printJson } from '../io.js';

/** Prints the resolved config as JSON: what a run with the same arguments would use. */
export function validateCommand(args: ConfigArgs): ExitCode {
  printJson(resolveConfig(args));
  return EXIT.ok;
}
