import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import type { RunDetail } from '../../src/serve/api-types.js';
import { tinyRunArgs, withTempDir } from '../helpers/cli.js';
import { startUntil } from './child.js';

/** Debian's chromium (installed by .ci/run); CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip =
  !existsSync(CHROMIUM) && process.env.CI !== 'true'
    ? `no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH); under CI=true this test runs and fails instead`
    : false;

/** Points of the curve drawn for `series` (e.g. "plain-8 training"): vertices of its SVG path. */
const pointsOf = (page: Page, series: string): Promise<number> =>
  page.evaluate((label) => {
    const path = Array.from(document.querySelectorAll('#curves path[aria-roledescription="line mark"]')).find((p) => p.getAttribute('aria-label') === label);
    const d = path?.getAttribute('d') ?? '';
    return d === '' ? 0 : d.split(/[ML]/).filter((s: string) => s.trim() !== '').length;
  }, series);

describe('serve in a real browser', { skip }, () => {
  it('run --serve: headless chromium sees the curves gain points as the run writes rows, without a reload; Ctrl-C ends both (exit 130)', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'live');
      // Far more iterations than the test waits for: it stops the run itself once it has seen what it needs.
      const training = startUntil([...tinyRunArgs(out, 5000), '--serve=0'], /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)run\/live /);
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      let url = '';
      try {
        url = (await training.matched)[1];
        // The API answers from the training process while it trains.
        const detail = (await (await fetch(`${url}api/runs/live`)).json()) as RunDetail;
        assert.equal(detail.backend, 'wasm');
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        const external: string[] = [];
        page.on('request', (r) => {
          if (!r.url().startsWith(url)) external.push(r.url());
        });
        await page.goto(`${url}run/live`);
        await page.evaluate(() => Object.assign(window, { sameDocument: true }));
        const series = 'plain-8 training';
        await page.waitForFunction((label) => Array.from(document.querySelectorAll('#curves path[aria-roledescription="line mark"]')).some((p) => p.getAttribute('aria-label') === label), series, { timeout: 0 });
        const before = await pointsOf(page, series);
        assert.ok(before >= 1);
        // New rows arrive while the page stays open: the same curve grows by more points.
        await page.waitForFunction(
          ([label, n]) => {
            const path = Array.from(document.querySelectorAll('#curves path[aria-roledescription="line mark"]')).find((p) => p.getAttribute('aria-label') === label);
            return (path?.getAttribute('d') ?? '').split(/[ML]/).filter((s: string) => s.trim() !== '').length >= (n as number) + 2;
          },
          [series, before] as const,
          { timeout: 0, polling: 100 },
        );
        const afterPoints = await pointsOf(page, series);
        assert.ok(afterPoints >= before + 2, `${before} → ${afterPoints}`);
        assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was not reloaded');
        // The page's other parts: status, report table, config.
        await page.waitForSelector('#report table');
        assert.match((await page.textContent('h1')) ?? '', /running/);
        assert.match((await page.textContent('#config')) ?? '', /"backend": "wasm"/);
        assert.equal(training.child.exitCode, null, 'still training while the page grew');
        assert.deepEqual(errors, []);
        assert.deepEqual(external, [], 'the page loads nothing from elsewhere');
        if (process.env.RESNET_EXP_SCREENSHOT) await page.screenshot({ path: process.env.RESNET_EXP_SCREENSHOT, fullPage: true });
      } finally {
        await browser.close();
        training.child.kill('SIGINT');
      }
      const [code] = await training.exited;
      assert.equal(code, 130, training.output().stderr);
      await assert.rejects(fetch(`${url}api/runs`), 'the dashboard stops with the run');
    });
  });
});
