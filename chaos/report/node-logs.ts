// Notable lines of the node logs (elections, step-downs, restarts, refusals, crashes), placed on the
// run's time axis. Servers log wall-clock ISO times (shared/log.ts: "TIME LEVEL message (k=v)" or
// JSON with `time` and `msg`); the history's axis is seconds since results.startedAt, so we map
// each line by subtracting that. Lines without a time, or not notable, are skipped and counted.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';

export type NotableKind =
  | 'leader'
  | 'step-down'
  | 'restart'
  | 'refused'
  | 'crash'
  | 'snapshot-taken'
  | 'snapshot-sent'
  | 'snapshot-installed';

/** The snapshot events, in the order a lagging follower sees them (counted into results.snapshots). */
export const SNAPSHOT_KINDS = ['snapshot-taken', 'snapshot-sent', 'snapshot-installed'] as const;
export type SnapshotKind = (typeof SNAPSHOT_KINDS)[number];

export interface NotableLine {
  node: string;
  kind: NotableKind;
  /** Seconds since the run's start. */
  timeS: number;
  text: string;
}

export interface NodeLogSummary {
  lines: NotableLine[];
  unparseable: number;
  missing: string[];
}

// Order matters: the first match names the line.
const KINDS: readonly [NotableKind, RegExp][] = [
  ['crash', /\bcrash|\bfatal\b|\bpanic|uncaught|assertion|invariant violated|driver stopped/i],
  ['leader', /became leader|elected leader|\bis (now )?leader\b/i],
  ['step-down', /step(ped|s|ping)?[ -]down|lost leadership/i],
  ['restart', /restart|\bstarting\b|recover(ed|ing)|replay(ed)? (the )?wal|wal replay/i],
  ['refused', /refus/i],
  // The server's words (server/node/shell.ts, server/raft/node.ts): the shell's "takes" and
  // "installed" lines, once per snapshot, and the leader's "sends" notice, once per transfer.
  ['snapshot-taken', /\btakes snapshot at index \d+/],
  ['snapshot-sent', /\bsends snapshot at index \d+/],
  ['snapshot-installed', /\binstalled snapshot at index \d+/],
];

const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})/;

export function classify(message: string): NotableKind | undefined {
  return KINDS.find(([, pattern]) => pattern.test(message))?.[0];
}

/** Parse one log line into (wall time ms, message), or undefined when it carries no time. */
export function parseLogLine(line: string): { wallMs: number; message: string } | undefined {
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    try {
      const record = JSON.parse(trimmed) as Record<string, unknown>;
      const time = record.time ?? record.ts ?? record.timestamp;
      const wallMs = typeof time === 'number' ? time : Date.parse(String(time));
      const message = String(record.msg ?? record.message ?? trimmed);
      return Number.isFinite(wallMs) ? { wallMs, message } : undefined;
    } catch {
      return undefined;
    }
  }
  const match = ISO_TIME.exec(trimmed);
  if (match === null) return undefined;
  const wallMs = Date.parse(match[0]);
  if (!Number.isFinite(wallMs)) return undefined;
  const message = trimmed.slice(match.index + match[0].length).trim();
  return { wallMs, message };
}

export function notableLines(node: string, text: string, startedAtMs: number): NodeLogSummary {
  const lines: NotableLine[] = [];
  let unparseable = 0;
  let leader = false;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const parsed = parseLogLine(raw);
    if (parsed === undefined) {
      unparseable += 1;
      continue;
    }
    // The server logs role changes as "n1 became follower for term 5": that is a step-down only
    // when this node was the leader, so we follow each node's role through its log.
    const becameOther = /became (follower|candidate|pre-?candidate)/i.test(parsed.message);
    const kind = becameOther ? (leader ? 'step-down' : undefined) : classify(parsed.message);
    if (kind === 'leader') leader = true;
    if (kind === 'step-down' || kind === 'restart' || kind === 'crash') leader = false;
    if (kind === undefined) continue;
    const message = parsed.message.replace(/^(DEBUG|INFO|WARN|ERROR)\s+/, '');
    lines.push({ node, kind, timeS: (parsed.wallMs - startedAtMs) / 1000, text: message.slice(0, 200) });
  }
  return { lines, unparseable, missing: [] };
}

/** Read every node log named in results.nodeLogs (paths relative to the run folder, kept inside it). */
export async function readNodeLogs(
  runDir: string,
  nodeLogs: Readonly<Record<string, string>>,
  startedAtMs: number,
): Promise<NodeLogSummary> {
  const summary: NodeLogSummary = { lines: [], unparseable: 0, missing: [] };
  for (const [node, path] of Object.entries(nodeLogs).sort((a, b) => a[0].localeCompare(b[0]))) {
    const full = resolve(runDir, path);
    const rel = relative(resolve(runDir), full);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      summary.missing.push(path);
      continue;
    }
    let text: string;
    try {
      text = await readFile(join(runDir, rel), 'utf8');
    } catch {
      summary.missing.push(path);
      continue;
    }
    const one = notableLines(node, text, startedAtMs);
    summary.lines.push(...one.lines);
    summary.unparseable += one.unparseable;
  }
  summary.lines.sort((a, b) => a.timeS - b.timeS || a.node.localeCompare(b.node));
  return summary;
}
