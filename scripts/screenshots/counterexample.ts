// Regenerates docs/images/counterexample.png (the README's picture of the counterexample page)
// from checker/test/fixtures/stale-read.jsonl in headless Chromium: npx tsx scripts/screenshots/counterexample.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test-support/browser.js';
import { checkHistory } from '../../checker/check.js';
import { readHistory } from '../../checker/history.js';
import { writeCounterexampleViews } from '../../checker/view/index.js';

const root = join(import.meta.dirname, '..', '..');
const events = readHistory(join(root, 'checker', 'test', 'fixtures', 'stale-read.jsonl'));
const dir = mkdtempSync(join(tmpdir(), 'raftlab-shot-'));
const [page] = writeCounterexampleViews(events, checkHistory(events), dir);
const browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  args: CHROMIUM_ARGS,
});
try {
  const tab = await browser.newPage({ viewport: { width: 1360, height: 520 }, deviceScaleFactor: 1 });
  await tab.goto(pathToFileURL(page!).href);
  await tab.click('#jump');
  const out = join(root, 'docs', 'images', 'counterexample.png');
  await tab.screenshot({ path: out });
  process.stdout.write(`wrote ${out}\n`);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
