import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport, writeReport } from './index.js';
import { notableLines } from './node-logs.js';
import { loadRun } from './run.js';
import { formatRunSummary } from './terminal.js';
import { markItems } from './svg-marks.js';
import { writeSyntheticRun, type SyntheticRun } from '../../test-support/synthetic-run.js';

let store: string;
let failing: SyntheticRun;
let html: string;

function plotSvg(page: string, id: string): string {
  const start = page.indexOf(`id="${id}"`);
  expect(start).toBeGreaterThan(0);
  return page.slice(start, page.indexOf('</div>', start));
}

beforeAll(async () => {
  store = await mkdtemp(join(tmpdir(), 'raftlab-report-'));
  failing = await writeSyntheticRun(store, { failing: true, durationS: 20 });
  html = await readFile(await writeReport(failing.dir), 'utf8');
});
afterAll(async () => rm(store, { recursive: true, force: true }));

describe('report.html of a failing run', () => {
  it('plots one point per completed operation', () => {
    expect(markItems(plotSvg(html, 'latency-plot'), 'ops_marks')).toHaveLength(failing.completedOps);
    expect(html).toContain(`All ${failing.completedOps} completed operations plotted`);
  });

  it('draws one labelled band per fault period in the latency, throughput and log plots', () => {
    for (const id of ['latency-plot', 'throughput-plot', 'log-plot']) {
      const svg = plotSvg(html, id);
      expect(markItems(svg, 'faults_marks')).toHaveLength(failing.faults.length);
      const labels = markItems(svg, 'fault_labels_marks', 'text').map((t) => t.replace(/<[^>]+>/g, ''));
      expect(labels).toEqual(failing.faults.map((f) => f.fault));
    }
  });

  it('shows the verdict, the replay command and a link to the counterexample view', () => {
    expect(html).toMatch(/class="verdict verdict-invalid"/);
    expect(html).toContain('lab run --nodes 5 --nemesis partition,kill,pause --time-limit 20 --seed 42');
    expect(failing.failingView).toMatch(/^counterexamples\/.+\.html$/);
    expect(html).toContain(`href="${failing.failingView}"`);
  });

  it('shows the violation window ending at the stale read, highlighted', () => {
    const section = html.slice(html.indexOf('<table class="window">'));
    const rows = section.slice(0, section.indexOf('</table>')).split('<tr').slice(2);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const last = rows[rows.length - 1] ?? '';
    expect(last).toContain('class="failing"');
    expect(last).toMatch(/<td>ok<\/td><td>get<\/td>/);
    // Which node served each operation: its own column (the stale read names the node that answered).
    expect(section).toMatch(/<th>error<\/th><th>node<\/th><\/tr>/);
    expect(last).toMatch(/<td class="node">n[1-5]<\/td><\/tr>$/);
    expect(html).not.toContain("Showing the key's first events");
    expect(html).toContain('Cannot come next: ');
  });

  it('places notable node log lines on the time axis and counts the unreadable ones', () => {
    expect(markItems(plotSvg(html, 'log-plot'), 'log_marks')).toHaveLength(6);
    expect(html).toContain('1 log lines had no readable time');
  });

  it('is self-contained: no scripts and no external resources', () => {
    expect(html).not.toMatch(/<script|<link |src="http|@import/);
  });
});

describe('long and unfinished runs', () => {
  it('caps plotted points, keeps every fail and info point, and says so', async () => {
    const page = await renderReport(failing.dir, { pointsMax: 300 });
    const points = markItems(plotSvg(page, 'latency-plot'), 'ops_marks');
    expect(points).toHaveLength(300);
    const history = await readFile(join(failing.dir, 'history.jsonl'), 'utf8');
    const rare = history.split('\n').filter((l) => /"type":"(fail|info)"/.test(l)).length;
    expect(points.filter((p) => !p.includes('fill="#3b75af"'))).toHaveLength(rare);
    expect(page).toContain(`Plotted 300 of ${failing.completedOps} operations (capped`);
  });

  it('renders a run in progress with a torn last history line as incomplete', async () => {
    const run = await writeSyntheticRun(store, { name: 'live', incomplete: true, durationS: 5 });
    await writeFile(join(run.dir, 'history.jsonl'), '{"type":"invoke","process":1', { flag: 'a' });
    const page = await renderReport(run.dir);
    expect(page).toMatch(/class="verdict verdict-incomplete"/);
    expect(page).toContain('still running');
  });

  it('names each node that stopped on a broken invariant at the top', async () => {
    const run = await writeSyntheticRun(store, { name: 'crashed', durationS: 5 });
    const path = join(run.dir, 'results.json');
    const results = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    const message =
      'raft invariant violated: n1 is leader of term 1 and got append from leader n4 of the same term';
    await writeFile(
      path,
      JSON.stringify({ ...results, verdict: 'invalid', invariantViolations: [{ node: 'n1', message }] }),
    );
    const page = await renderReport(run.dir);
    expect(page).toMatch(/class="verdict verdict-invalid"/);
    expect(page).toContain(`<p class="failing">Node n1 stopped: ${message}</p>`);
    // lab show says it too.
    expect(formatRunSummary(await loadRun(run.dir))).toContain(`stopped  n1: ${message}`);
  });

  it('renders a folder with no results.json and no history', async () => {
    const page = await renderReport(join(store, 'nothing-here'));
    expect(page).toContain('no results.json');
    expect(page).toMatch(/class="verdict verdict-unknown"/);
  });
});

describe('node log lines', () => {
  const start = Date.parse('2026-11-22T04:00:00.000Z');
  it('reads text and JSON lines and maps wall-clock times to seconds since the start', () => {
    const text = [
      '2026-11-22T04:00:02.500Z INFO  n1 became leader for term 3',
      '{"time":"2026-11-22T04:00:04.000Z","level":"info","node":"n1","msg":"stepped down: higher term"}',
      '2026-11-22T04:00:05.000Z INFO  applied entry (index=4)',
      '2026-11-22T04:00:06.000Z INFO  n1 became candidate for term 4',
      '2026-11-22T04:00:07.000Z INFO  n1 became leader for term 4',
      '2026-11-22T04:00:08.000Z INFO  n1 became follower for term 5',
      '2026-11-22T04:00:09.000Z INFO  n1 restarted: replayed 812 entries, term 5, commit 700',
      'no time here: crash',
    ].join('\n');
    const summary = notableLines('n1', text, start);
    expect(summary.lines.map((l) => [l.kind, l.timeS])).toEqual([
      ['leader', 2.5],
      ['step-down', 4],
      ['leader', 7],
      ['step-down', 8],
      ['restart', 9],
    ]);
    expect(summary.unparseable).toBe(1);
  });
});
