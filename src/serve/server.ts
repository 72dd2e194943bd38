import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CurveMetric } from '../report/aggregate.js';
import { err, ok, type Result } from '../result.js';
import type { ApiError } from './api-types.js';
import { loadAssets, type Asset } from './assets.js';
import type { Catalog } from './catalog.js';
import { curvesFigures, diagnosticsFigure, diagnosticsKinds, type DiagnosticsKind } from './figures.js';
import { page, type PageName } from './pages.js';
import type { RunState } from './run-state.js';

/** How long an /api/ answer waits for new rows to be read before answering with what it has. */
const SYNC_BUDGET_MS = 800;
/** Bytes of metrics.csv per rows answer, at most (about 10,000 rows): the page asks again from `next`. */
const MAX_ROWS_BYTES = 1024 * 1024;
const FIGURE_WIDTH = { min: 300, max: 4000, default: 1100 };

/**
 * Scripts only from this server (no CDN: the page works offline); vega compiles its expressions with Function,
 * hence 'unsafe-eval'. Nothing may frame the page.
 */
const CSP = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const notFound = (): HttpError => new HttpError(404, 'not found');

/** The path's segments, each percent-decoded once; `..` and the like are just names that match nothing. */
function segments(rawPath: string): string[] {
  try {
    return rawPath.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    throw notFound();
  }
}

/** Host names a browser uses for this machine: others reaching a loopback-only server come by DNS rebinding. */
const LOOPBACK_HOSTS = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

export interface ServeOptions {
  catalog: Catalog;
  /** The server only answers requests naming a loopback host (blocks DNS rebinding); off when bound to another address. */
  loopbackOnly: boolean;
}

export interface Dashboard {
  server: Server;
  url: string;
  close(): Promise<void>;
}

function query(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw new HttpError(400, `${name} given ${all.length} times: give it once`);
  return all[0];
}

function wholeNumber(params: URLSearchParams, name: string, fallback: number, range: { min: number; max: number }): number {
  const text = query(params, name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < range.min || Number(text) > range.max) {
    throw new HttpError(400, `${name}=${text}: give a whole number from ${range.min} to ${range.max}`);
  }
  return Number(text);
}

const flag = (params: URLSearchParams, name: string): boolean => {
  const v = query(params, name);
  if (v === undefined || v === '0' || v === 'false') return false;
  if (v === '' || v === '1' || v === 'true') return true;
  throw new HttpError(400, `${name}=${v}: give 1 or 0`);
};

/** The dashboard's requests: pages, their scripts, and the JSON API. Read-only: GET and HEAD only. */
export class Handler {
  private readonly assets: Map<string, Asset>;

  constructor(private readonly options: ServeOptions) {
    this.assets = loadAssets();
  }

  private get catalog(): Catalog {
    return this.options.catalog;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Content-Security-Policy', CSP);
    const url = req.url ?? '/';
    const api = url.startsWith('/api/');
    try {
      if (this.options.loopbackOnly && !LOOPBACK_HOSTS.test(req.headers.host ?? '')) {
        throw new HttpError(403, `host ${JSON.stringify(req.headers.host ?? '')} refused: this server answers only to localhost`);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        throw new HttpError(405, `${req.method}: read-only, GET only`);
      }
      const q = url.indexOf('?');
      const path = segments(q < 0 ? url : url.slice(0, q));
      const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      if (api) return this.json(res, 200, await this.api(path.slice(1), params));
      return this.page(res, path);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
      if (api || status !== 404) return this.json(res, status, { error: message } satisfies ApiError);
      return this.send(res, 404, 'text/plain; charset=utf-8', Buffer.from('not found\n'));
    }
  }

  private send(res: ServerResponse, status: number, type: string, body: Buffer, cache = 'no-store'): void {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': cache });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    this.send(res, status, 'application/json; charset=utf-8', Buffer.from(JSON.stringify(value)));
  }

  private page(res: ServerResponse, path: string[]): void {
    const [head, ...rest] = path;
    if (head === 'static') {
      const asset = this.assets.get(rest.join('/'));
      if (!asset) throw notFound();
      return this.send(res, 200, asset.type, asset.body);
    }
    // Browsers ask for an icon; there is none, and that is no error.
    if (head === 'favicon.ico' && rest.length === 0) return this.send(res, 204, 'image/x-icon', Buffer.alloc(0));
    let name: PageName;
    if (path.length === 0) name = 'index';
    else if (head === 'run' && rest.length === 1 && this.catalog.run(rest[0])) name = 'run';
    else if (head === 'compare' && rest.length === 0) name = 'compare';
    else throw notFound();
    this.send(res, 200, 'text/html; charset=utf-8', Buffer.from(page(name)));
  }

  private state(id: string | undefined): RunState {
    const state = id === undefined ? undefined : this.catalog.run(id);
    if (!state) throw notFound();
    return state;
  }

  /** Reads a run's new rows, yielding between chunks, for at most the budget. */
  private async syncRun(state: RunState): Promise<void> {
    const until = Date.now() + SYNC_BUDGET_MS;
    while (state.step() && Date.now() < until) await nextTurn();
  }

  private runIds(params: URLSearchParams): string[] {
    const ids = params.getAll('run');
    if (ids.length === 0) throw new HttpError(400, 'give at least one run=ID');
    for (const id of ids) this.state(id);
    return [...new Set(ids)];
  }

  private async api(path: string[], params: URLSearchParams): Promise<unknown> {
    const [what, id, action, kind] = path;
    if (what === 'runs' && id === undefined) {
      await this.catalog.sync(SYNC_BUDGET_MS);
      return this.catalog.index();
    }
    if (what === 'runs') {
      const state = this.state(id);
      if (action === undefined && path.length === 2) {
        await this.syncRun(state);
        const detail = this.catalog.detail(state.id);
        if (!detail) throw notFound();
        return { ...detail, diagnostics: diagnosticsKinds(state) };
      }
      if (action === 'rows' && path.length === 3) {
        const since = wholeNumber(params, 'since', 0, { min: 0, max: Number.MAX_SAFE_INTEGER });
        const maxBytes = wholeNumber(params, 'max_bytes', MAX_ROWS_BYTES, { min: 1024, max: MAX_ROWS_BYTES });
        const rows = this.catalog.rows(state.id, since, query(params, 'file'), maxBytes);
        if (!rows) throw notFound();
        return unwrap(rows);
      }
      if (action === 'report' && path.length === 3) {
        await this.syncRun(state);
        return unwrap(this.catalog.report([state.id], flag(params, 'include_unfinished')));
      }
      if (action === 'diagnostics' && path.length === 4 && (kind === 'responses' || kind === 'gradients')) {
        const width = wholeNumber(params, 'width', FIGURE_WIDTH.default, FIGURE_WIDTH);
        return unwrap(diagnosticsFigure(state, kind as DiagnosticsKind, width));
      }
      throw notFound();
    }
    if (what === 'report' && path.length === 1) {
      const ids = this.runIds(params);
      for (const runId of ids) await this.syncRun(this.state(runId));
      return unwrap(this.catalog.report(ids, flag(params, 'include_unfinished')));
    }
    if (what === 'figure' && path.length === 1) {
      const ids = this.runIds(params);
      const metric = query(params, 'metric') ?? 'error';
      if (metric !== 'error' && metric !== 'loss') throw new HttpError(400, `metric=${metric}: give error or loss`);
      const width = wholeNumber(params, 'width', FIGURE_WIDTH.default, FIGURE_WIDTH);
      const groups = this.catalog.groups(ids);
      if (!groups) throw notFound();
      return curvesFigures(groups, metric as CurveMetric, width);
    }
    throw notFound();
  }
}

function unwrap<T>(result: Result<T, { status: number; message: string }>): T {
  if (!result.ok) throw new HttpError(result.error.status, result.error.message);
  return result.value;
}

/** Starts listening; a port in use or a host that cannot be bound is an error value, not an exception. */
export function startServer(options: ServeOptions & { host: string; port: number }): Promise<Result<Dashboard>> {
  const handler = new Handler(options);
  const server = createServer((req, res) => {
    handler.handle(req, res).catch((e: unknown) => {
      // handle() answers every error itself; this is a failure to write the answer (the client went away).
      if (!res.headersSent) res.writeHead(500).end();
      void e;
    });
  });
  // A malformed request is answered 400 by node; it must never take the server down.
  server.on('clientError', (_e, socket) => socket.destroy());
  return new Promise((done) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const why =
        e.code === 'EADDRINUSE'
          ? `port ${options.port} on ${options.host} is in use; choose another with --port (0 picks a free one)`
          : e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND'
            ? `--host ${options.host}: not an address of this machine`
            : e.code === 'EACCES'
              ? `port ${options.port}: not allowed (ports below 1024 need privileges)`
              : `cannot listen on ${options.host}:${options.port}: ${e.code ?? e.message}`;
      done(err(why));
    });
    server.listen(options.port, options.host, () => {
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const shownHost = host === '0.0.0.0' || host === '[::]' ? 'localhost' : host;
      done(
        ok({
          server,
          url: `http://${shownHost}:${address.port}/`,
          close: () =>
            new Promise<void>((closed) => {
              server.close(() => closed());
              server.closeAllConnections();
            }),
        }),
      );
    });
  });
}
