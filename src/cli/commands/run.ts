import { defaultRunDir } from '../../record/run-folder.js';
import { defineCommand } from '../command.js';
import { resolveConfig, withConfigOverrides } from '../config-options.js';
import { trainingSession } from '../training-session.js';

export const runCommand = defineCommand({
  command: 'run <config>',
  describe: "Train the config's plain and residual networks in lockstep; curves to <run folder>/metrics.csv",
  builder: (y) =>
    withConfigOverrides(y.positional('config', { describe: 'config file (YAML or JSON)', type: 'string' }))
      .option('json', { type: 'boolean', default: false, describe: 'print the final summary as JSON on stdout' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress; only warnings and errors on stderr' })
      .option('force', { type: 'boolean', default: false, describe: 'reuse an --out folder that already holds a run' })
      .example('$0 run configs/cifar56.json', "the paper's 56-layer comparison")
      .example('$0 run configs/smoke.json --iterations 20 --out runs/try --json', 'a short run, summary as JSON on stdout'),
  run: async (args, io) => {
    const resolved = resolveConfig(args, io);
    // The default folder is under the invocation's cwd (runs/<name>-<UTC time>), like every relative path.
    const config = { ...resolved, out: resolved.out ?? defaultRunDir(resolved.name, new Date(), io.cwd) };
    // Loaded on use: TF.js takes a while to import, and --help, --version and bad flags should not wait for it.
    const { runExperiment } = await import('../../train/run.js');
    return trainingSession(io, { ...args, iterations: config.train.iterations }, (hooks) => runExperiment({ config, force: args.force, ...hooks }));
  },
});
