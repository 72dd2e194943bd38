import { basename, dirname, resolve } from 'node:path';
import { BACKENDS, type BackendName } from '../../config/schema.js';
import { defineCommand } from '../command.js';
import { withServe, withServeOption } from '../serve-option.js';
import { trainingSession } from '../training-session.js';

export const resumeCommand = defineCommand({
  command: 'resume <runDir>',
  describe: 'Continue an interrupted run from its latest complete checkpoint',
  builder: (y) =>
    withServeOption(y)
      .positional('runDir', { describe: 'the run folder', type: 'string', demandOption: true })
      .option('backend', { type: 'string', choices: ['auto', ...BACKENDS], describe: 'default: the backend the run started on' })
      .option('json', { type: 'boolean', default: false, describe: 'print the final summary as JSON on stdout' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress; only warnings and errors on stderr' })
      .example('$0 resume runs/cifar56-20261129T191512Z', 'finish the run exactly as it would have finished'),
  run: async (args, io) => {
    const { readRunConfig, resumeExperiment } = await import('../../train/resume.js');
    const runDir = resolve(io.cwd, args.runDir);
    const { config } = readRunConfig(runDir);
    return trainingSession(io, { ...args, iterations: config.train.iterations }, (hooks, session) =>
      withServe({ cwd: io.cwd, stderr: session.stderr }, args.serve, dirname(runDir), { run: basename(runDir) }, () =>
        resumeExperiment({ runDir, backend: args.backend as BackendName | 'auto' | undefined, ...hooks }),
      ),
    );
  },
});
