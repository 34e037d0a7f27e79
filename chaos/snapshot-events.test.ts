import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticRun, type SyntheticRun } from '../test-support/synthetic-run.js';
import { renderReport } from './report/index.js';
import { classify } from './report/node-logs.js';
import { loadRun } from './report/run.js';
import { markItems } from './report/svg-marks.js';
import { formatRunSummary } from './report/terminal.js';
import type { RunResults } from './results-types.js';
import { applySnapshotEvents, snapshotSummaryLine } from './snapshot-events.js';

let store: string;
let run: SyntheticRun;
let results: RunResults;

/** The server's own lines (server/node/shell.ts, server/raft/node.ts), as its text log writes them. */
function snapshotLines(startedAt: string): Record<string, string[]> {
  const at = (s: number) => new Date(Date.parse(startedAt) + s * 1000).toISOString();
  return {
    n1: [
      `${at(3)} INFO  n1 takes snapshot at index 500 (term 2, 9000 bytes, 500 entries since the last)`,
      `${at(3.1)} INFO  n1 snapshot at index 500 durable; log compacted through 400`,
      `${at(6)} INFO  n1 takes snapshot at index 1000 (term 2, 9100 bytes, 500 entries since the last)`,
      `${at(8)} INFO  n1 sends snapshot at index 1000 (9100 bytes) to n3: it needs index 320, compacted (code=SNAPSHOT_SENT)`,
    ],
    n2: [`${at(3.2)} INFO  n2 takes snapshot at index 500 (term 2, 9000 bytes, 500 entries since the last)`],
    n3: [
      `${at(8.2)} INFO  n3 installs snapshot at index 1000 (term 2, 9100 bytes) from n1, received in 4 ticks`,
      `${at(8.3)} INFO  n3 installed snapshot at index 1000 (term 2, 9100 bytes); state machine restored`,
    ],
  };
}

async function readResults(): Promise<RunResults> {
  return JSON.parse(await readFile(join(run.dir, 'results.json'), 'utf8')) as RunResults;
}

beforeAll(async () => {
  store = await mkdtemp(join(tmpdir(), 'raftlab-snapshots-'));
  run = await writeSyntheticRun(store, { durationS: 10 });
  results = await readResults();
  for (const [node, lines] of Object.entries(snapshotLines(results.startedAt)))
    await appendFile(join(run.dir, 'logs', `${node}.log`), lines.join('\n') + '\n');
});
afterAll(async () => rm(store, { recursive: true, force: true }));

describe('snapshot events from the node logs', () => {
  it('names the taken, sent and installed lines, and nothing else about snapshots', () => {
    expect(classify('n1 takes snapshot at index 500 (term 2, 9 bytes, 500 entries since the last)')).toBe(
      'snapshot-taken',
    );
    expect(classify('n1 sends snapshot at index 9 (9 bytes) to n3: it needs index 2, compacted')).toBe(
      'snapshot-sent',
    );
    expect(classify('n3 installed snapshot at index 9 (term 2, 9 bytes); state machine restored')).toBe(
      'snapshot-installed',
    );
    // The core's notice and the durable line repeat the same events: counted once, by the lines above.
    expect(classify('n3 installs snapshot at index 9 (term 2, 9 bytes) from n1, received in 4 ticks')).toBe(
      undefined,
    );
    expect(classify('n1 snapshot at index 500 durable; log compacted through 400')).toBe(undefined);
    expect(classify('n3 refuses snapshot at index 9 from n1: 99 bytes exceed snapshotBytesMax')).toBe(
      'refused',
    );
  });

  it('counts them per node into results and the summary line', async () => {
    await applySnapshotEvents(results, run.dir);
    expect(results.snapshots).toMatchObject({ taken: 3, sent: 1, installed: 1 });
    expect(results.snapshots?.byNode.n1).toEqual({ taken: 2, sent: 1, installed: 0 });
    expect(results.snapshots?.byNode.n3).toEqual({ taken: 0, sent: 0, installed: 1 });
    expect(results.snapshots?.byNode.n5).toEqual({ taken: 0, sent: 0, installed: 0 });
    expect(snapshotSummaryLine(results)).toBe('snapshots: 3 taken, 1 sent, 1 installed (n3)');
    // lab show says it too, from results.json.
    await writeFile(join(run.dir, 'results.json'), JSON.stringify(results));
    expect(formatRunSummary(await loadRun(run.dir))).toContain(
      'snapshots  3 taken, 1 sent, 1 installed (n3)',
    );
  });

  it('says a fall-behind fault did not bite when no node installed a snapshot', () => {
    const fault = { fault: 'partition', detail: 'isolate n3 (a follower of n1, to fall behind compaction)' };
    const bitten = { ...results, faults: [{ ...fault, nodes: ['n3'], startTime: 0, stopTime: 1 }] };
    expect(snapshotSummaryLine(bitten)).toBe('snapshots: 3 taken, 1 sent, 1 installed (n3)');
    const none = { ...bitten.snapshots!, installed: 0, byNode: {} };
    expect(snapshotSummaryLine({ ...bitten, snapshots: none })).toMatch(
      /^snapshots: 3 taken, 1 sent, 0 installed; fall-behind did not bite: no node installed a snapshot/,
    );
  });

  it('leaves the count unknown, not zero, when no node log was read', async () => {
    const unread = { ...results, nodeLogs: { n1: 'logs/gone.log' } };
    await applySnapshotEvents(unread, run.dir);
    expect(unread.snapshots).toBeUndefined();
    expect(snapshotSummaryLine(unread)).toBe('snapshots: unknown (no node log was counted)');
  });

  it('marks them on the report time axis with the other node log events', async () => {
    const page = await renderReport(run.dir);
    const start = page.indexOf('id="log-plot"');
    const plot = page.slice(start, page.indexOf('</div>', start));
    // The synthetic run's 6 notable lines plus 3 taken, 1 sent and 1 installed.
    expect(markItems(plot, 'log_marks')).toHaveLength(11);
    expect(plot).toContain('snapshot-installed');
    expect(page).toContain(
      '<td>n3</td><td>snapshot-installed</td><td><code>n3 installed snapshot at index 1000 (term 2, 9100 bytes); state machine restored</code></td>',
    );
    expect(page.match(/<td>snapshot-taken<\/td>/g)).toHaveLength(3);
    expect(page.match(/<td>snapshot-sent<\/td>/g)).toHaveLength(1);
  });
});
