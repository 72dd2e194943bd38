import { BACKENDS, type BackendName } from '../../config/schema.js';
import { basename, dirname, resolve } from 'node:path';
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
  run: async (args) => {
    const { readRunConfig, resumeExperiment } = await import('../../train/resume.js');
    const { config } = readRunConfig(args.runDir);
    const runDir = resolve(args.runDir);
    return withServe(args.serve, dirname(runDir), { run: basename(runDir) }, () =>
      trainingSession({ ...args, iterations: config.train.iterations }, (hooks) =>
        resumeExperiment({ runDir: args.runDir, backend: args.backend as BackendName | 'auto' | undefined, ...hooks }),
      ),
    );
  },
});
