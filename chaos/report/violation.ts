// The smallest window of a failing key's history that shows its violation, from the checker's own
// counterexample (checker/counterexample.ts). We re-check just that key's events, which is cheap
// because the lab keeps per-key histories short (--ops-per-key), and take the longest partial
// linearization: the operations that could not come next ("blocked") are where it fails. The window
// is the key's events from the invoke of the earliest of (the last `contextSteps` linearized
// operations, the blocked operations) through the last completion of a blocked operation, plus the
// faults that started or stopped in that span. Blocked operations' completions are highlighted.
import { checkHistory } from '../../checker/index.js';
import type { ClientEvent, HistoryEvent } from '../../checker/history-types.js';

export interface ViolationWindow {
  key: string;
  events: HistoryEvent[];
  /** Completion events of the operations that could not be linearized next. */
  highlighted: Set<HistoryEvent>;
  /** What the checker says, in words: how far it got, the state there and what could not follow. */
  explanation: string[];
  /** True when the key did not come out illegal here (e.g. it hit the time limit). */
  approximate: boolean;
}

const CHECK_TIME_LIMIT_MS = 5_000;
const WINDOW_EVENTS_MAX = 60;

export function violationWindow(
  events: readonly HistoryEvent[],
  key: string,
  contextSteps = 3,
): ViolationWindow {
  const keyEvents = events.filter((e): e is ClientEvent => e.type !== 'nemesis' && e.key === key);
  const result = checkHistory(keyEvents, { timeLimitMs: CHECK_TIME_LIMIT_MS }).keys.find(
    (k) => k.key === key,
  );
  const partial = result?.counterexample?.partials[0];
  if (result === undefined || partial === undefined) {
    const why =
      result?.verdict === 'unknown'
        ? `the re-check hit its limit (${result.reason ?? 'unknown'})`
        : 'the re-check found no violation';
    return {
      key,
      events: keyEvents.slice(0, WINDOW_EVENTS_MAX),
      highlighted: new Set(),
      explanation: [`Showing the key's first events: ${why}.`],
      approximate: true,
    };
  }
  const context = partial.steps.slice(-contextSteps).map((s) => s.op);
  const blocked = partial.blocked.map((b) => b.op);
  const first = Math.min(...[...context, ...blocked].map((op) => op.invokeIndex));
  const returned = blocked.filter((op) => op.ret !== null).map((op) => op.completeIndex);
  const last = Math.min(
    keyEvents.length - 1,
    Math.max(...(returned.length > 0 ? returned : blocked.map((op) => op.invokeIndex))),
  );
  const slice = keyEvents.slice(Math.max(first, last - WINDOW_EVENTS_MAX + 1), last + 1);
  const [fromNs, toNs] = [slice[0]?.time ?? 0, slice[slice.length - 1]?.time ?? 0];
  const faults = events.filter((e) => e.type === 'nemesis' && e.time >= fromNs && e.time <= toNs);
  const merged = [...slice, ...faults].sort((a, b) => a.time - b.time);
  const highlighted = new Set<HistoryEvent>(
    returned.map((i) => keyEvents[i]).filter((e): e is ClientEvent => e !== undefined),
  );
  const explanation = [
    `The longest linearization places ${result.counterexample?.linearized ?? 0} of ${result.counterexample?.operations ?? 0} operations; the state is then ${partial.state}.`,
    ...partial.blocked.map(
      (b) =>
        `Cannot come next: ${b.op.description} (process ${b.op.process}) — ${b.why === 'rejected' ? 'the model forbids it in that state' : 'allowed, but nothing can follow it'}.`,
    ),
  ];
  return { key, events: merged, highlighted, explanation, approximate: false };
}
