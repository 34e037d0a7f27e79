// The counterexample page: self-contained, capped for big histories, and in headless Chromium the
// "jump to first error" control finds and describes the first operation that could not come next.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test-support/browser.js';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHistory } from '../check.js';
import { loadHistory } from '../readers/index.js';
import { OPERATIONS_DRAWN_MAX, writeCounterexampleViews } from '../view/index.js';
import { history, op } from './build.js';
import type { ClientEvent } from '../history-types.js';
import { skipBecause } from '../../test-support/skip.js';

const dir = mkdtempSync(join(tmpdir(), 'raftlab-view-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function viewsOf(file: string, out: string): string[] {
  const h = loadHistory(join(import.meta.dirname, 'fixtures', file));
  return writeCounterexampleViews(h.events, checkHistory(h.events, { model: h.model }), join(dir, out));
}

describe('counterexample pages', () => {
  it('writes one self-contained page per illegal key and none for an ok history', () => {
    const pages = viewsOf('c01-bad.txt', 'c01');
    const h = loadHistory(join(import.meta.dirname, 'fixtures', 'c01-bad.txt'));
    const illegal = checkHistory(h.events, { model: h.model }).keys.filter((k) => k.verdict === 'illegal');
    expect(pages).toHaveLength(illegal.length);
    for (const page of pages) {
      const html = readFileSync(page, 'utf8');
      expect(html).not.toMatch(/(src|href)=["']?https?:/);
      expect(html).toContain('<script>const DATA');
    }
    expect(viewsOf('c01-ok.txt', 'ok')).toEqual([]);
  });

  it('labels each operation with the node that served it, when the history records one', () => {
    const served = (events: ClientEvent[], node: string): ClientEvent[] =>
      events.map((e) => (e.type === 'invoke' ? e : { ...e, node }));
    const events = history(
      served(op({ process: 0, f: 'put', value: '1', call: 0, ret: 10 }), 'n1'),
      served(op({ process: 1, f: 'put', value: '2', call: 20, ret: 30 }), 'n2'),
      served(op({ process: 2, f: 'get', value: '1', call: 40, ret: 50 }), 'n3'), // stale: from the old leader
      op({ process: 3, f: 'get', value: '2', call: 60, ret: 70 }), // no node recorded
    );
    const [page] = writeCounterexampleViews(events, checkHistory(events), join(dir, 'nodes'));
    const html = readFileSync(page!, 'utf8');
    const data = JSON.parse(/const DATA = (.*);\n/.exec(html)![1]!) as {
      operations: { process: number; node?: string }[];
    };
    expect(data.operations.map((o) => [o.process, o.node])).toEqual([
      [0, 'n1'],
      [1, 'n2'],
      [2, 'n3'],
      [3, undefined],
    ]);
    // The boxes, the tooltip and the details panel name it ("n3: get -> ...", "process 2 @ n3").
    expect(html).toContain("function label(o) { return (o.node ? o.node + ': ' : '') + o.description; }");
    expect(html).toContain("tip.textContent = who(o) + ': '");
  });

  it('caps what it draws for a key with thousands of operations, and says so', () => {
    const groups = [];
    for (let i = 0; i < 4000; i++)
      groups.push(op({ process: i % 8, f: 'put', value: String(i), call: 10 * i, ret: 10 * i + 5 }));
    groups.push(op({ process: 9, f: 'get', value: 'never', call: 40_000, ret: 40_001 }));
    const events = history(...groups);
    const [page] = writeCounterexampleViews(events, checkHistory(events), join(dir, 'big'));
    const html = readFileSync(page!, 'utf8');
    expect(html).toContain(`only the ${OPERATIONS_DRAWN_MAX} around the failure are drawn`);
    expect(statSync(page!).size).toBeLessThan(1_000_000);
  });

  it.skipIf(
    skipBecause(
      'the counterexample view in Chromium',
      existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH}`,
    ),
  )('opens in headless Chromium and jumps to the first error', async () => {
    const [page] = viewsOf('stale-read.jsonl', 'stale');
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      const tab = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const errors: string[] = [];
      const remote: string[] = [];
      tab.on('pageerror', (e) => errors.push(e.message));
      tab.on('request', (r) => {
        if (!r.url().startsWith('file:')) remote.push(r.url());
      });
      await tab.goto(pathToFileURL(page!).href);
      expect(await tab.locator('.op').count()).toBe(41);
      expect(await tab.locator('.op.focus').count()).toBe(0);
      await tab.click('#jump');
      const focused = tab.locator('.op.focus');
      expect(await focused.count()).toBe(1);
      expect(await focused.getAttribute('class')).toContain('rej');
      const details = await tab.textContent('#details');
      expect(details).toContain('First error');
      expect(details).toContain('get -> "11"');
      expect(details).toContain('the model rejects it in state "16"');
      expect(details).toContain('stale read');
      await focused.hover();
      expect(await tab.textContent('#tip')).toContain('cannot come next');
      expect(errors).toEqual([]);
      expect(remote).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
