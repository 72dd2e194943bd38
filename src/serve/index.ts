import { err, ok, type Result } from '../result.js';
import { Catalog } from './catalog.js';
import { startServer, type Dashboard } from './server.js';

export type { Dashboard } from './server.js';

export const DEFAULT_PORT = 6006;
export const DEFAULT_HOST = '127.0.0.1';

/** Addresses only this machine reaches: anything else is worth a note that others can read the runs. */
export const isLoopback = (host: string): boolean => /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i.test(host);

export interface DashboardOptions {
  /** Folders of runs, sweep folders or run folders; relative ones against `cwd`. */
  roots: readonly string[];
  cwd: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
}

/**
 * The dashboard of the runs and sweeps under `roots`, listening. Bad input (a missing folder, a port in use, a
 * host that is not this machine's) is an error value naming it.
 */
export async function startDashboard(options: DashboardOptions): Promise<Result<Dashboard & { catalog: Catalog }>> {
  const catalog = Catalog.open({ roots: options.roots, cwd: options.cwd });
  if (!catalog.ok) return catalog;
  const started = await startServer({ catalog: catalog.value, host: options.host, port: options.port, loopbackOnly: isLoopback(options.host) });
  if (!started.ok) return err(started.error);
  return ok({ ...started.value, catalog: catalog.value });
}
