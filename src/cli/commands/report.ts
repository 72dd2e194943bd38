import { loadRuns } from '../../report/read-run.js';
import { buildReport, formatReport } from '../../report/report.js';
import { InputError } from '../../result.js';
import { defineCommand } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printJson, printLine, printWarning, type CliIo } from '../io.js';

export interface ReportArgs {
  runDirs: string[];
  json: boolean;
  includeUnfinished: boolean;
}

function report(args: ReportArgs, io: CliIo): ExitCode {
  const runs = loadRuns(args.runDirs, io.cwd);
  if (!runs.ok) throw new InputError(runs.error);
  const result = buildReport(runs.value, io.cwd, { includeUnfinished: args.includeUnfinished });
  for (const w of result.warnings) printWarning(io, w);
  if (args.json) printJson(io, result);
  else printLine(io, formatReport(result, io.cwd));
  return EXIT.ok;
}

export const reportCommand = defineCommand({
  command: 'report <runDirs..>',
  describe: 'Final and best errors per network (mean ± std over seeds) and whether degradation shows and shortcuts remove it',
  builder: (y) =>
    y
      .positional('runDirs', {
        describe: 'run folders (or sweep folders); several folders of one config with different seeds pool as seeds',
        type: 'string',
        array: true,
        demandOption: true,
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as one JSON object on stdout' })
      .option('include-unfinished', {
        type: 'boolean',
        default: false,
        describe: 'count seeds that are still running or were interrupted, measuring "final" at their last row',
      })
      .example('$0 report runs/fig6-cpu', 'table and verdicts for one run folder')
      .example('$0 report runs/s1 runs/s2 runs/s3 --json', 'three seeds pooled, as JSON'),
  run: (args, io) => report({ runDirs: args.runDirs as string[], json: args.json, includeUnfinished: args.includeUnfinished }, io),
});
