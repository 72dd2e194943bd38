import { defineCommand } from '../command.js';
import { resolveConfig, withConfigOverrides } from '../config-options.js';
import { EXIT } from '../exit-codes.js';
import { printJson } from '../io.js';

/** Prints the resolved config as JSON: what a run with the same arguments would use. */
export const validateCommand = defineCommand({
  command: 'validate <config>',
  describe: 'Print the resolved config (file + env + flags) as JSON, or its errors',
  builder: (y) =>
    withConfigOverrides(y.positional('config', { describe: 'config file (YAML or JSON)', type: 'string' })).example(
      '$0 validate configs/cifar56.json --set train.lr=0.05',
      'the config a run with these flags would use',
    ),
  run: (args, io) => {
    printJson(io, resolveConfig(args, io));
    return EXIT.ok;
  },
});
