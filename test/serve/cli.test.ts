import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RunDetail } from '../../src/serve/api-types.js';
import { runCli, withTempDir } from '../helpers/cli.js';
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
      const results = await Promise.all(cases.map(([args]) => runCli([...args])));
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
        const r = await runCli(['serve', dir, '--port', String(port)]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`));
      } finally {
        blocker.close();
      }
    });
  });

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
});
