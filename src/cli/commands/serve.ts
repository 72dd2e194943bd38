import { spawn } from 'node:child_process';
import { InputError } from '../../result.js';
import { defineCommand } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printLine, printWarning, type CliIo } from '../io.js';
import { checkPort, startDashboardOrThrow } from '../serve-option.js';

export interface ServeArgs {
  dirs: string[];
  port: number | string;
  host: string | undefined;
  open: boolean;
}

/** The desktop's way to open a URL; a failure only costs the convenience. */
function openInBrowser(io: CliIo, url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [url], { detached: true, stdio: 'ignore' });
  child.on('error', () => printWarning(io, `--open: could not run ${command}; open ${url} yourself`));
  child.unref();
}

async function serve(args: ServeArgs, io: CliIo): Promise<ExitCode> {
  for (const [flag, v] of [['--port', args.port], ['--host', args.host]] as const) {
    if (Array.isArray(v)) throw new InputError(`${flag} given ${v.length} times: give it once`);
  }
  const port = checkPort(args.port, '--port');
  const dashboard = await startDashboardOrThrow(io, { roots: args.dirs.length > 0 ? args.dirs : ['runs'], host: args.host, port });
  printLine(io, dashboard.url);
  io.stderr.write(`resnet-exp: serving ${args.dirs.length > 0 ? args.dirs.join(', ') : 'runs'} at ${dashboard.url} (read-only; Ctrl-C stops)\n`);
  if (args.open) openInBrowser(io, dashboard.url);
  let untrap = () => {};
  const signal = await new Promise<NodeJS.Signals>((stop) => {
    untrap = io.onSignal(stop);
  });
  untrap();
  await dashboard.close();
  io.stderr.write(`resnet-exp: ${signal}: stopped serving\n`);
  return EXIT.interrupted;
}

export const serveCommand = defineCommand({
  command: 'serve [dirs..]',
  describe: 'A local web dashboard of the runs and sweeps in the given folders: curves growing while they train, reports, comparisons',
  builder: (y) =>
    y
      .positional('dirs', { describe: 'folders of runs, sweep folders or run folders (default runs)', type: 'string', array: true, default: [] as string[] })
      .option('port', { type: 'string', default: '6006', describe: 'port to listen on (0 picks a free one)' })
      .option('host', { type: 'string', describe: 'address to listen on (default 127.0.0.1: this machine only)' })
      .option('open', { type: 'boolean', default: false, describe: 'open the dashboard in the desktop browser' })
      .example('$0 serve', 'the runs under runs/ at http://127.0.0.1:6006/')
      .example('$0 serve runs/depths runs/seeds --port 8080 --open', 'two folders, another port, and open a browser'),
  run: (args, io) => serve({ dirs: (args.dirs as string[] | undefined) ?? [], port: args.port, host: args.host, open: args.open }, io),
});
