import { STALL_SECONDS } from '../../data/download.js';
import { fetchRelease, resolveFetchSource, type FetchProblemKind } from '../../data/fetch.js';
import { RELEASES, type ReleaseId } from '../../data/releases.js';
import { InputError } from '../../result.js';
import { defineCommand } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printError, printJson, type CliIo } from '../io.js';
import { withTerminal } from '../terminal-session.js';

export interface FetchArgs {
  dataset: string;
  dataDir?: string;
  url?: string;
  md5?: string;
  stallTimeout?: number;
  force: boolean;
  quiet: boolean;
  json: boolean;
}

/** A bad flag is the user's to fix (2); a failed download, checksum or archive is not (1). */
const exitFor = (kind: FetchProblemKind): ExitCode =>
  kind === 'input' ? EXIT.badInput : kind === 'interrupted' ? EXIT.interrupted : EXIT.failed;

const DATASETS = Object.keys(RELEASES) as ReleaseId[];
const isDataset = (name: string): name is ReleaseId => (DATASETS as string[]).includes(name);

async function fetchDataset(args: FetchArgs, io: CliIo): Promise<ExitCode> {
  // Checked here rather than with yargs' `choices`, whose message spans several lines.
  if (!isDataset(args.dataset)) throw new InputError(`unknown data set ${JSON.stringify(args.dataset)}; choose one of ${DATASETS.join(', ')}`);
  const release = RELEASES[args.dataset];
  const source = resolveFetchSource(release, args, io.env, io.cwd);
  if (!source.ok) throw new InputError(source.error);

  const archiveName = new URL(release.url).pathname.split('/').pop() ?? release.id;
  return withTerminal(io, args.quiet, async (session) => {
    const bar = session.downloadBar(archiveName);
    // The first SIGINT/SIGTERM stops the transfer and keeps the part file for a rerun; a second exits at once.
    const abort = new AbortController();
    session.trapSignals({ stop: () => abort.abort() });
    const result = await fetchRelease({
      ...source.value,
      force: args.force,
      signal: abort.signal,
      onProgress: bar ? ({ received, total }) => bar.update(received, total) : undefined,
      onNote: (line) => session.log.info(line),
    });
    bar?.clear();
    if (!result.ok) {
      printError(io, result.error.message);
      return exitFor(result.error.kind);
    }
    const report = result.value;
    session.log.info(
      report.status === 'present'
        ? `${release.title} is already in ${report.dataDir} (pass --force to download it again)`
        : `${release.title} installed in ${report.dataDir} (${report.files.length} files)`,
    );
    if (args.json) printJson(io, report);
    return EXIT.ok;
  });
}

export const fetchCommand = defineCommand({
  command: 'fetch <dataset>',
  describe: 'Download a data set (cifar10, cifar100: the official binary releases), verify its MD5 and unpack it',
  builder: (y) =>
    y
      .positional('dataset', { describe: `the data set: ${DATASETS.join(', ')}`, type: 'string', demandOption: true })
      .option('data-dir', {
        type: 'string',
        describe:
          'folder to hold the .bin files (default for cifar10: $RESNET_EXP_DATA, else ~/.cache/resnet-exp/cifar-10-batches-bin; ' +
          'for cifar100: ~/.cache/resnet-exp/cifar-100-binary; run searches there)',
      })
      .option('url', { type: 'string', describe: 'archive URL (default: $RESNET_EXP_CIFAR_URL or $RESNET_EXP_CIFAR100_URL, else the official one)' })
      .option('md5', { type: 'string', describe: 'expected MD5 of the archive (default: $RESNET_EXP_CIFAR_MD5 or $RESNET_EXP_CIFAR100_MD5, else the official one)' })
      .option('stall-timeout', {
        type: 'number',
        describe: `seconds without a byte from the server before giving up, keeping what arrived for a rerun (default ${STALL_SECONDS.default}, at most ${STALL_SECONDS.max})`,
      })
      .option('force', { type: 'boolean', default: false, describe: 'download again even if the data is already there' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress; only errors on stderr' })
      .option('json', { type: 'boolean', default: false, describe: 'print {status, dataDir, url, md5, bytes, resumedFrom, files} as JSON on stdout' })
      .example('$0 fetch cifar10', 'into the per-user cache, where run looks')
      .example('$0 fetch cifar10 --data-dir data/cifar --json', 'into a chosen folder; result as JSON')
      .example('$0 fetch cifar100', 'CIFAR-100 (fine and coarse labels) into ~/.cache/resnet-exp/cifar-100-binary'),
  run: (args, io) => fetchDataset(args, io),
});
