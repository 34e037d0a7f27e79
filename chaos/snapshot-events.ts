// Snapshot events counted from the node logs after a run (taken, sent, installed, per node), so
// results.json and the summary say whether the run exercised InstallSnapshot on the real servers.
// A fall-behind run that installed no snapshot says so: the fault did not bite.
import { readNodeLogs, SNAPSHOT_KINDS, type NotableLine, type SnapshotKind } from './report/node-logs.js';
import type { RunResults, SnapshotCounts, SnapshotEvents } from './results-types.js';

const FIELD: Record<SnapshotKind, keyof SnapshotCounts> = {
  'snapshot-taken': 'taken',
  'snapshot-sent': 'sent',
  'snapshot-installed': 'installed',
};

function zero(): SnapshotCounts {
  return { taken: 0, sent: 0, installed: 0 };
}

export function countSnapshotEvents(lines: readonly NotableLine[], nodes: readonly string[]): SnapshotEvents {
  const events: SnapshotEvents = { ...zero(), byNode: Object.fromEntries(nodes.map((n) => [n, zero()])) };
  for (const line of lines) {
    if (!(SNAPSHOT_KINDS as readonly string[]).includes(line.kind)) continue;
    const field = FIELD[line.kind as SnapshotKind];
    events[field] += 1;
    const perNode = (events.byNode[line.node] ??= zero());
    perNode[field] += 1;
  }
  return events;
}

/** Reads the node logs named in results and records the counts; no logs read: left unknown. */
export async function applySnapshotEvents(results: RunResults, runDir: string): Promise<void> {
  delete results.snapshots;
  if (Object.keys(results.nodeLogs).length === 0) return;
  const startedAtMs = Date.parse(results.startedAt);
  const logs = await readNodeLogs(runDir, results.nodeLogs, Number.isFinite(startedAtMs) ? startedAtMs : 0);
  if (logs.missing.length === Object.keys(results.nodeLogs).length) return;
  results.snapshots = countSnapshotEvents(logs.lines, results.nodes);
}

/** "snapshots: 12 taken, 2 sent, 2 installed (n3)", or why there is no count. */
export function snapshotSummaryLine(results: RunResults): string {
  const events = results.snapshots;
  if (events === undefined) return 'snapshots: unknown (no node log was counted)';
  const installers = Object.entries(events.byNode)
    .filter(([, counts]) => counts.installed > 0)
    .map(([node, counts]) => (counts.installed > 1 ? `${node} ×${counts.installed}` : node));
  const line = `snapshots: ${events.taken} taken, ${events.sent} sent, ${events.installed} installed${installers.length > 0 ? ` (${installers.join(', ')})` : ''}`;
  const fellBehind = results.faults.some((f) => f.detail.includes('fall behind compaction'));
  if (fellBehind && events.installed === 0)
    return `${line}; fall-behind did not bite: no node installed a snapshot (more writes, a longer --nemesis-interval or a smaller --snapshot-entries)`;
  return line;
}
