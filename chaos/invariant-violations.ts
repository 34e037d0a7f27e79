// A node that stopped on a broken Raft invariant (server/raft/invariant.ts: "raft invariant
// violated: ...") has shown a bug by itself: two leaders in one term, a commit index going back.
// The lab reads each node's log after the run and counts such a stop as a finding, so a run whose
// cluster crashed before any client could notice is invalid, not "no leader" or valid.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { RunResults } from './results-types.js';

/** The server's own words (InvariantError's message prefix); a line carrying them is the crash. */
const INVARIANT_LINE = /raft invariant violated: [^"\n]*/;
/** A log line is cut to this for the record (the message names nodes and terms, never more). */
const VIOLATION_CHARS_MAX = 300;

export interface InvariantViolation {
  node: string;
  message: string;
}

/** The first invariant violation each node's log reports, in node order. Unreadable logs are skipped. */
export function invariantViolations(
  runDir: string,
  nodeLogs: Readonly<Record<string, string>>,
): InvariantViolation[] {
  const found: InvariantViolation[] = [];
  for (const [node, path] of Object.entries(nodeLogs).sort((a, b) => a[0].localeCompare(b[0]))) {
    const rel = relative(resolve(runDir), resolve(runDir, path));
    if (rel.startsWith('..') || isAbsolute(rel)) continue; // a log outside the run folder is not read
    let text: string;
    try {
      text = readFileSync(join(runDir, rel), 'utf8');
    } catch {
      continue;
    }
    // Up to the end of the line, or of the JSON string when the log writes JSON lines.
    const message = INVARIANT_LINE.exec(text)?.[0].trimEnd();
    if (message === undefined) continue;
    found.push({ node, message: message.slice(0, VIOLATION_CHARS_MAX) });
  }
  return found;
}

/**
 * Records the violations in results and makes the run invalid: like a non-linearizable history,
 * a broken invariant is a bug whatever else the run did (also in a partial run).
 */
export function applyInvariantViolations(results: RunResults, runDir: string): void {
  const found = invariantViolations(runDir, results.nodeLogs);
  if (found.length === 0) {
    delete results.invariantViolations;
    return;
  }
  results.invariantViolations = found;
  results.verdict = 'invalid';
}
