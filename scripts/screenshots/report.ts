// Regenerates the README's screenshots -> docs/images/report-failing.png, docs/images/runs-page.png:
//   npx tsx scripts/screenshots/report.ts --store DIR   from real runs in DIR (its newest invalid run)
//   npx tsx scripts/screenshots/report.ts               from synthetic runs (no cluster needed)
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { startServe } from '../../chaos/serve/server.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test-support/browser.js';
import { writeReport } from '../../chaos/report/index.js';
import { listRuns } from '../../chaos/report/store.js';
import { writeSyntheticRun } from '../../test-support/synthetic-run.js';

const IMAGES = join(import.meta.dirname, '..', '..', 'docs', 'images');

/** A store of four synthetic runs, one failing; returns the store. */
async function syntheticStore(): Promise<string> {
  const store = await mkdtemp(join(tmpdir(), 'raftlab-screenshots-'));
  const runs = [
    {
      name: 'partition-5',
      timestamp: '20261122T040000.000Z',
      startedAt: '2026-11-22T04:00:00.000Z',
      failing: true,
      seed: 42,
    },
    {
      name: 'kill-pause-5',
      timestamp: '20261122T033000.000Z',
      startedAt: '2026-11-22T03:30:00.000Z',
      seed: 7,
    },
    {
      name: 'partition-3',
      timestamp: '20261122T030500.000Z',
      startedAt: '2026-11-22T03:05:00.000Z',
      seed: 1234,
      processes: 5,
    },
    {
      name: 'packet-5',
      timestamp: '20261122T041500.000Z',
      startedAt: '2026-11-22T04:15:00.000Z',
      incomplete: true,
      seed: 99,
      durationS: 12,
    },
  ];
  for (const run of runs) {
    const written = await writeSyntheticRun(store, run);
    if (run.incomplete !== true) await writeReport(written.dir);
  }
  return store;
}

async function main(): Promise<void> {
  const storeFlag = process.argv.indexOf('--store');
  const realStore = storeFlag >= 0 ? process.argv[storeFlag + 1] : undefined;
  const store = realStore ?? (await syntheticStore());
  const failing = (await listRuns(store)).find((run) => run.verdict === 'invalid' && run.hasReport);
  if (failing === undefined) throw new Error(`no invalid run with a report under ${store}`);
  const server = await startServe({ store, port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    await mkdir(IMAGES, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1240, height: 420 } });
    await page.goto(server.url);
    await page.screenshot({ path: join(IMAGES, 'runs-page.png'), fullPage: true });
    await page.setViewportSize({ width: 1060, height: 1590 });
    await page.goto(`${server.url}files/${failing.relPath}/report.html`);
    await page.screenshot({ path: join(IMAGES, 'report-failing.png') });
    await page.screenshot({
      path: join(IMAGES, 'report-charts.png'),
      clip: await chartsBox(page),
      fullPage: true,
    });
  } finally {
    await browser.close();
    await server.close();
    if (realStore === undefined) await rm(store, { recursive: true, force: true });
  }
  process.stdout.write(`wrote runs-page.png, report-failing.png and report-charts.png in ${IMAGES}\n`);
}

/** The report's two charts: from the "Latency over time" heading to the "Node logs" heading. */
async function chartsBox(page: Page): Promise<{ x: number; y: number; width: number; height: number }> {
  const top = await page.locator('h2', { hasText: 'Latency over time' }).boundingBox();
  const bottom = await page.locator('h2', { hasText: 'Node logs' }).boundingBox();
  if (top === null || bottom === null) throw new Error('the report has no charts section');
  return { x: 0, y: top.y - 8, width: page.viewportSize()?.width ?? 1060, height: bottom.y - top.y };
}

await main();
