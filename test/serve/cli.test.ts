import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RunDetail } from '../../src/serve/api-types.js';
import { runInProcess, tinyRunArgs, withTempDir } from '../helpers/cli.js';
import { startUntil } from './child.js';
import { writeRun, fourNets } from '../report/fixtures.js';

describe('resnet-exp serve (CLI)', () => {
  it('bad input: one line, exit 2', async () => {
    await withTempDir(async (dir) => {
      const cases = [
        [['serve', join(dir, 'nope')], /nope: no such folder/],
        [['serve', dir, '--port', 'abc'], /--port abc: give a port number from 0 to 65535/],
        [['serve', dir, '--host', '192.0.2.1', '--port', '0'], /--host 192\.0\.2\.1: not an address of this machine/],
        [['run', 'configs/smoke.json', '--serve', 'configs/smoke.json'], /--serve configs\/smoke\.json: give a port number .*--serve=PORT/],
      ] as const;
      const results = await Promise.all(cases.map(([args]) => runInProcess([...args])));
      for (const [i, r] of results.entries()) {
        const [args, message] = cases[i];
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
      // A port already taken.
      const blocker = createServer();
      await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
      const port = (blocker.address() as { port: number }).port;
      try {
        const r = await runInProcess(['serve', dir, '--port', String(port)]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`));
      } finally {
        blocker.close();
      }
    });
  });

  // A real process: the signal is the process's own.
  it('prints the URL, answers, and stops on Ctrl-C with exit 130', async () => {
    await withTempDir(async (dir) => {
      writeRun(join(dir, 'a'), fourNets(1, { p20: 0.1, p56: 0.2, r20: 0.1, r56: 0.1 }));
      const serve = startUntil(['serve', dir, '--port', '0'], /serving .* at (http:\/\/127\.0\.0\.1:\d+\/)/);
      const [, url] = await serve.matched;
      assert.equal(serve.output().stdout, `${url}\n`);
      const run = (await (await fetch(`${url}api/runs/a`)).json()) as RunDetail;
      assert.equal(run.rows, 80);
      serve.child.kill('SIGINT');
      const [code] = await serve.exited;
      assert.equal(code, 130);
    });
  });

  it('run --serve in-process: the run page on the session\'s stderr, answered while training, closed with the run on its signal', async () => {
    await withTempDir(async (dir) => {
      const signals = new EventEmitter();
      let page: Promise<unknown> | undefined;
      const r = await runInProcess([...tinyRunArgs(join(dir, 'live'), 400), '--serve=0'], {
        signals,
        onStderr: (text) => {
          const url = /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)run\/live /.exec(text)?.[1];
          if (url === undefined || page) return;
          page = fetch(`${url}api/runs/live`)
            .then((res) => res.json() as Promise<RunDetail>)
            .then((detail) => ({ url, detail }))
            .finally(() => signals.emit('signal', 'SIGINT'));
        },
      });
      assert.ok(page, `no dashboard line: ${r.stderr}`);
      const { url, detail } = (await page) as { url: string; detail: RunDetail };
      assert.equal(detail.backend, 'wasm');
      assert.equal(r.code, 130, r.stderr);
      assert.equal(signals.listenerCount('signal'), 0);
      await assert.rejects(fetch(`${url}api/runs`), 'the dashboard stops with the run');
    });
  });
});
