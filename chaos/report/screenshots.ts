// Regenerates the README's screenshots from synthetic runs (no cluster needed):
//   npx tsx chaos/report/screenshots.ts   -> docs/images/report-failing.png, docs/images/runs-page.png
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServe } from '../serve/server.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js';
import { writeReport } from './index.js';
import { writeSyntheticRun } from './synthetic-run.js';

const IMAGES = join(import.meta.dirname, '..', '..', 'docs', 'images');

async function main(): Promise<void> {
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
  const server = await startServe({ store, port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    await mkdir(IMAGES, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1240, height: 420 } });
    await page.goto(server.url);
    await page.screenshot({ path: join(IMAGES, 'runs-page.png'), fullPage: true });
    await page.setViewportSize({ width: 1060, height: 1590 });
    await page.goto(`${server.url}files/partition-5/20261122T040000.000Z/report.html`);
    await page.screenshot({ path: join(IMAGES, 'report-failing.png') });
  } finally {
    await browser.close();
    await server.close();
    await rm(store, { recursive: true, force: true });
  }
  process.stdout.write(`wrote ${join(IMAGES, 'runs-page.png')} and ${join(IMAGES, 'report-failing.png')}\n`);
}

await main();
