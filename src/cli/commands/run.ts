import { basename, dirname } from 'node:path';
import { defaultRunDir } from '../../record/run-folder.js';
import { defineCommand } from '../command.js';
import { resolveConfig, withConfigOverrides } from '../config-options.js';
import { withServe, withServeOption } from '../serve-option.js';
import { trainingSession } from '../training-session.js';

export const runCommand = defineCommand({
  command: 'run <config>',
  describe: "Train the config's plain and residual networks in lockstep; curves to <run folder>/metrics.csv",
  builder: (y) =>
    withServeOption(withConfigOverrides(y.positional('config', { describe: 'config file (YAML or JSON)', type: 'string' })))
      .option('json', { type: 'boolean', default: false, describe: 'print the final summary as JSON on stdout' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress; only warnings and errors on stderr' })
      .option('force', { type: 'boolean', default: false, describe: 'reuse an --out folder that already holds a run' })
      .example('$0 run configs/cifar56.json', "the paper's 56-layer comparison")
      .example('$0 run configs/smoke.json --iterations 20 --out runs/try --json', 'a short run, summary as JSON on stdout')
      .example('$0 run configs/cifar20.json --serve', 'watch the curves grow at http://127.0.0.1:6006/'),
  run: async (args, io) => {
    const resolved = resolveConfig(args, io);
    // The default folder is under the invocation's cwd (runs/<name>-<UTC time>), like every relative path; named
    // now rather than when the run creates it so that --serve can point at it from its first row.
    const config = { ...resolved, out: resolved.out ?? defaultRunDir(resolved.name, new Date(), io.cwd) };
    // Loaded on use: TF.js takes a while to import, and --help, --version and bad flags should not wait for it.
    const { runExperiment } = await import('../../train/run.js');
    return trainingSession(io, { ...args, iterations: config.train.iterations }, (hooks, session) =>
      withServe({ cwd: io.cwd, stderr: session.stderr }, args.serve, dirname(config.out), { run: basename(config.out) }, () =>
        runExperiment({ config, force: args.force, ...hooks }),
      ),
    );
  },
});
