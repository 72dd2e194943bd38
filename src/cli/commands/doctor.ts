import { cpus } from 'node:os';
import { packageVersion } from '../../record/provenance.js';
import { defineCommand } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printJson, printLine, type CliIo } from '../io.js';

/** One line per backend: usable, or why not; plus versions and threads. */
async function printDoctor(args: { json: boolean }, io: CliIo): Promise<ExitCode> {
  const tf = await import('@tensorflow/tfjs-core');
  const { probeBackends } = await import('../../backend/select.js');
  const statuses = await probeBackends();
  const info = {
    resnetExp: packageVersion(),
    node: process.version,
    tfjs: tf.version_core,
    cores: cpus().length,
    ompThreads: io.env.OMP_NUM_THREADS ?? null,
    backends: statuses,
  };
  if (args.json) {
    printJson(io, info);
  } else {
    printLine(io, `resnet-exp ${info.resnetExp}, node ${info.node}, tfjs-core ${info.tfjs}, ${info.cores} cores` + (info.ompThreads ? `, OMP_NUM_THREADS=${info.ompThreads}` : ''));
    for (const s of statuses) printLine(io, `${s.name.padEnd(15)} ${s.usable ? 'usable ' : 'missing'}  ${s.detail}`);
  }
  return EXIT.ok;
}

export const doctorCommand = defineCommand({
  command: 'doctor',
  describe: 'Which backends can be used here, and why not',
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'as JSON' }).example('$0 doctor', 'one line per backend'),
  run: (args, io) => printDoctor(args, io),
});
