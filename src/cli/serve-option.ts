import { mkdirSync } from 'node:fs';
import type { Argv } from 'yargs';
import { InputError } from '../result.js';
import type { Catalog } from '../serve/catalog.js';
import type { Dashboard } from '../serve/index.js';
import type { CliIo } from './io.js';

/** Where the dashboard's notes go (a terminal session's stderr while training) and what its paths are relative to. */
export type ServeIo = Pick<CliIo, 'cwd' | 'stderr'>;

const DEFAULT_PORT = 6006;
const LOCAL = '127.0.0.1';

export function checkPort(value: unknown, flag: string): number {
  const text = String(value).trim();
  if (!/^\d+$/.test(text) || Number(text) > 65535) {
    const hint = flag === '--serve' ? '; put --serve after the config file, or write --serve=PORT' : '';
    throw new InputError(`${flag} ${text}: give a port number from 0 to 65535 (0 picks a free one)${hint}`);
  }
  return Number(text);
}

/**
 * Starts the dashboard, or throws the problem as bad input (exit 2). Another address than this machine's own
 * lets others read the runs: said on stderr.
 */
export async function startDashboardOrThrow(
  io: ServeIo,
  options: { roots: readonly string[]; host?: string; port: number },
): Promise<Dashboard & { catalog: Catalog }> {
  // The server loads vega: only commands that serve pay for it.
  const { isLoopback, startDashboard } = await import('../serve/index.js');
  const host = options.host ?? LOCAL;
  const started = await startDashboard({ roots: options.roots, cwd: io.cwd, host, port: options.port });
  if (!started.ok) throw new InputError(started.error);
  if (!isLoopback(host)) {
    io.stderr.write(`resnet-exp: note: listening on ${host}, not only on this machine: whoever can reach it can read these runs (read-only)\n`);
  }
  return started.value;
}

/** `--serve [PORT]` of run, resume and sweep. */
export function withServeOption<T>(y: Argv<T>) {
  return y.option('serve', {
    type: 'string',
    describe: `also serve the dashboard (resnet-exp serve) while training, on PORT (default ${DEFAULT_PORT}); it stops when training ends`,
  });
}

/** What withServe points the user to: a page at once, or a run's page once the run has created its folder. */
export type ServedPage = { path: string } | { run: string };

/** How often withServe looks for the run's folder to print its page. */
const LOOK_MS = 250;

/**
 * Runs `train` with the dashboard of `root` listening beside it in this process when `serve` is given (the
 * training loop yields to the event loop between steps, so pages are answered while it trains). A port that
 * cannot be used stops everything before training starts. The URL goes to stderr: the run's page as soon as the
 * run has started writing its folder.
 */
export async function withServe<T>(io: ServeIo, serve: string | undefined, root: string, page: ServedPage, train: () => Promise<T>): Promise<T> {
  if (serve === undefined) return train();
  if (Array.isArray(serve)) throw new InputError(`--serve given ${serve.length} times: give it once`);
  const port = serve === '' ? DEFAULT_PORT : checkPort(serve, '--serve');
  // The folder the run or sweep is about to create, so that it can be served from its first row.
  mkdirSync(root, { recursive: true });
  const dashboard = await startDashboardOrThrow(io, { roots: [root], port });
  const say = (path: string) => io.stderr.write(`resnet-exp: dashboard at ${dashboard.url}${path} (until training ends)\n`);
  let look: NodeJS.Timeout | undefined;
  if ('path' in page) {
    say(page.path);
  } else {
    look = setInterval(() => {
      if (!dashboard.catalog.run(page.run)) return;
      clearInterval(look);
      say(`run/${encodeURIComponent(page.run)}`);
    }, LOOK_MS);
  }
  try {
    return await train();
  } finally {
    clearInterval(look);
    await dashboard.close();
  }
}
