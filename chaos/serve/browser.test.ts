// The runs page, a report and a counterexample view in headless Chromium (Debian's chromium package).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH as CHROMIUM } from '../../test-support/browser.js';
import { writeReport } from '../report/index.js';
import { writeSyntheticRun, type SyntheticRun } from '../../test-support/synthetic-run.js';
import { startServe, type RunningServe } from './server.js';
import { skipBecause } from '../../test-support/skip.js';

let store: string;
let failing: SyntheticRun;
let server: RunningServe;
let browser: Browser;

// Skipped (and reported as skipped) where Debian's chromium is not installed: `apt-get install chromium`.
describe.skipIf(
  skipBecause(
    'lab serve in a browser',
    existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium)`,
  ),
)('lab serve in a browser', () => {
  beforeAll(async () => {
    store = await mkdtemp(join(tmpdir(), 'raftlab-browser-'));
    failing = await writeSyntheticRun(store, { failing: true, durationS: 15 });
    await writeReport(failing.dir);
    await writeSyntheticRun(store, {
      name: 'in-progress',
      timestamp: '20261122T050000.000Z',
      incomplete: true,
      durationS: 4,
      startedAt: '2026-11-22T05:00:00.000Z',
    });
    server = await startServe({ store, port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(store, { recursive: true, force: true });
  });

  it('lists the runs, opens a report with fault bands and one point per operation, and a counterexample view', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    const rows = page.locator('tr.run');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).getAttribute('data-verdict')).toBe('incomplete');
    expect(await rows.nth(1).getAttribute('data-verdict')).toBe('invalid');
    expect(await rows.nth(1).locator('.verdict').textContent()).toBe('invalid');

    await rows.nth(1).locator('a.report-link').click();
    await page.waitForURL(/report\.html$/);
    expect(await page.locator('#latency-plot g.ops_marks > path').count()).toBe(failing.completedOps);
    for (const plot of ['#latency-plot', '#throughput-plot', '#log-plot']) {
      expect(await page.locator(`${plot} g.faults_marks > path`).count()).toBe(failing.faults.length);
      expect(await page.locator(`${plot} g.fault_labels_marks > text`).allTextContents()).toEqual(
        failing.faults.map((f) => f.fault),
      );
    }
    const band = await page.locator('#latency-plot g.faults_marks > path').first().boundingBox();
    expect(band?.width).toBeGreaterThan(20); // drawn, visibly

    await page.locator('a.view-link').first().click();
    await page.waitForURL(/counterexample-.+\.html$/);
    expect(await page.title()).toContain(failing.failingKey ?? 'no failing key');
    await page.close();
  });

  it('renders the live report of a run still in progress', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.locator('tr.run').nth(0).locator('a.report-link').click();
    await expect.poll(() => page.locator('.verdict').first().textContent()).toBe('incomplete');
    expect(await page.locator('#latency-plot g.ops_marks > path').count()).toBeGreaterThan(0);
    await page.close();
  });
});
