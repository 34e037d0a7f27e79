// The text report of a check, as `lab check` prints it.
import type { CheckResult, KeyResult } from './check.js';
import { count } from './plural.js';
import { formatMiB } from './memory.js';
import { NOT_CHECKED } from './schedule.js';

const KEYS_LISTED_MAX = 50;

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

/** Long states (appended strings) are shown by their end, which is where they differ. */
function clipState(state: string): string {
  return state.length > 44 ? `…${state.slice(-40)}` : state;
}

export function formatReport(result: CheckResult): string {
  const lines: string[] = [];
  const width = Math.min(24, Math.max(3, ...result.keys.map((k) => k.key.length)));
  const skipped = result.keys.filter((k) => k.reason?.startsWith(NOT_CHECKED) === true);
  const checked = result.keys.filter((k) => !skipped.includes(k));
  const shown = [...checked.filter((k) => k.verdict !== 'ok'), ...checked.filter((k) => k.verdict === 'ok')];
  for (const key of shown.slice(0, KEYS_LISTED_MAX)) {
    const verdict = key.verdict === 'illegal' ? 'ILLEGAL' : key.verdict;
    const why = key.reason === undefined ? '' : `  (${key.reason})`;
    lines.push(
      `  key ${key.key.padEnd(width)}  ${verdict.padEnd(7)}  ${String(key.operations).padStart(6)} ops  ${formatMs(key.elapsedMs).padStart(9)}${why}`,
    );
    if (key.verdict === 'illegal') lines.push(...describeFailure(key));
  }
  if (shown.length > KEYS_LISTED_MAX)
    lines.push(`  ... and ${count(shown.length - KEYS_LISTED_MAX, 'more key')}, all ok`);
  if (skipped.length > 0)
    lines.push(
      `  ${count(skipped.length, 'more key')} not checked: the verdict was known (--all-keys checks every key)`,
    );
  const counts = ['illegal', 'unknown'].map(
    (v) => [v, checked.filter((k) => k.verdict === v).length] as const,
  );
  const detail = counts
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} of ${count(result.keys.length, 'key')} ${v}`);
  if (skipped.length > 0) detail.push(`${skipped.length} not checked`);
  lines.push(
    `verdict: ${result.verdict}${detail.length > 0 ? ` (${detail.join(', ')})` : ''}; ${count(result.operations, 'operation')} in ${count(result.keys.length, 'key')}, ${formatMs(result.elapsedMs)}, ${formatMiB(result.memoryBytesPeak)} of search memory at most`,
  );
  return lines.join('\n');
}

/** The first partial linearization, briefly: where it stops and what could not come next. */
function describeFailure(key: KeyResult): string[] {
  const cx = key.counterexample;
  const first = cx?.partials[0];
  if (cx === undefined || first === undefined) return [];
  const out = [
    `      longest partial linearization: ${cx.linearized} of ${count(cx.operations, 'operation')}, ending in state ${clipState(first.state)}`,
  ];
  const last = first.steps.slice(-3);
  for (const s of last)
    out.push(
      `        … p${s.op.process} ${clipState(s.op.description)}   [state ${clipState(s.stateBefore)} → ${clipState(s.stateAfter)}]`,
    );
  out.push('      none of these can come next:');
  for (const b of first.blocked.slice(0, 6)) {
    const why = b.why === 'rejected' ? 'rejected by the model' : 'allowed, but leads nowhere';
    out.push(`        p${b.op.process} ${clipState(b.op.description)}   (${why})`);
  }
  if (first.blocked.length > 6)
    out.push(`        ... and ${first.blocked.length - 6 + first.blockedOmitted} more`);
  return out;
}
