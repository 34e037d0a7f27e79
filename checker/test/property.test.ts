// Property: a history made from a sequential run of the model, each operation given an interval
// around its place in that order, is always linearizable; changing one read to a value that no
// write produced makes it illegal.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../check.js';
import type { ClientEvent, HistoryEvent } from '../history-types.js';
import { manyWriters } from '../../bench/hard-histories.js';
import { op, history } from './build.js';

type Step =
  | { f: 'get'; key: string }
  | { f: 'put' | 'append'; key: string; value: string }
  | { f: 'delete'; key: string }
  | { f: 'cas'; key: string; expected: string | null; value: string };

const keys = fc.constantFrom('a', 'b');
const values = fc.constantFrom('1', '2', '3');
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ f: fc.constant('get' as const), key: keys }) },
  {
    weight: 2,
    arbitrary: fc.record({ f: fc.constantFrom('put' as const, 'append' as const), key: keys, value: values }),
  },
  { weight: 1, arbitrary: fc.record({ f: fc.constant('delete' as const), key: keys }) },
  {
    weight: 2,
    arbitrary: fc.record({
      f: fc.constant('cas' as const),
      key: keys,
      expected: fc.option(values),
      value: values,
    }),
  },
);
const casesOf = (steps: fc.Arbitrary<Step>) =>
  fc.array(fc.record({ step: steps, before: fc.nat(25), after: fc.nat(25), info: fc.boolean() }), {
    minLength: 1,
    maxLength: 24,
  });
const caseArb = casesOf(stepArb);

interface Case {
  step: Step;
  before: number;
  after: number;
  info: boolean;
}

/** Runs the steps in order; operation i takes effect at time 10*i inside [call, ret]. */
function execute(cases: readonly Case[]): HistoryEvent[] {
  const store = new Map<string, string>();
  const groups: ClientEvent[][] = [];
  cases.forEach(({ step, before, after, info }, i) => {
    const at = 10 * i;
    const timing = { process: i, key: step.key, call: at - before, ret: at + after };
    const current = store.get(step.key) ?? null;
    if (step.f === 'get') {
      groups.push(op({ ...timing, f: 'get', value: current }));
      return;
    }
    // An indeterminate write still took effect here: the checker must find that order.
    const outcome = info ? { type: 'info' as const, error: 'TIMEOUT' } : {};
    if (step.f === 'cas') {
      const matched = current === step.expected;
      if (matched) store.set(step.key, step.value);
      const failed = !matched && !info ? { type: 'fail' as const, error: 'CAS_MISMATCH' } : outcome;
      groups.push(op({ ...timing, f: 'cas', value: [step.expected, step.value], ...failed }));
      return;
    }
    if (step.f === 'delete') store.delete(step.key);
    else store.set(step.key, step.f === 'put' ? step.value : (current ?? '') + step.value);
    groups.push(
      op({ ...timing, f: step.f, ...(step.f === 'delete' ? {} : { value: step.value }), ...outcome }),
    );
  });
  return history(...groups);
}

describe('histories from sequential executions', () => {
  it('are always linearizable', () => {
    fc.assert(
      fc.property(caseArb, (cases) => {
        const result = checkHistory(execute(cases));
        expect(result.verdict).toBe('ok');
      }),
      { numRuns: 300 },
    );
  });

  it('become illegal when one read returns a value no write produced', () => {
    const withRead = caseArb.filter((cases) => cases.some((c) => c.step.f === 'get'));
    fc.assert(
      fc.property(withRead, fc.nat(), (cases, pick) => {
        const events = execute(cases);
        const reads = events.filter((e) => e.type === 'ok' && e.f === 'get');
        const target = reads[pick % reads.length]!;
        const mutated = events.map((e) =>
          e === target ? { ...(e as ClientEvent), value: 'never-written' } : e,
        );
        expect(checkHistory(mutated).verdict).toBe('illegal');
      }),
      { numRuns: 300 },
    );
  });
});

/** A sequential history with one read changed to what another read or write saw (maybe legal). */
const mutatedOf = (cases: fc.Arbitrary<Case[]>) =>
  fc.tuple(cases, fc.nat(), fc.nat()).map(([cases, pick, from]) => {
    const events = execute(cases);
    const reads = events.filter((e) => e.type === 'ok' && e.f === 'get');
    const values = events.flatMap((e) =>
      e.type !== 'invoke' && e.type !== 'nemesis' && typeof e.value === 'string' ? [e.value] : [],
    );
    if (reads.length === 0 || values.length === 0) return events;
    const target = reads[pick % reads.length]!;
    const value = values[from % values.length]!;
    return events.map((e) => (e === target ? { ...(e as ClientEvent), value } : e));
  });

describe('the append pruning', () => {
  const mutatedArb = mutatedOf(caseArb);

  it('changes no verdict (against the search without it, on legal and illegal histories)', () => {
    let illegal = 0;
    fc.assert(
      fc.property(mutatedArb, (events) => {
        const pruned = checkHistory(events, { searchVariant: 'eager' }).verdict;
        expect(pruned).toBe(checkHistory(events, { searchVariant: 'plain' }).verdict);
        if (pruned === 'illegal') illegal++;
      }),
      { numRuns: 500 },
    );
    // The comparison means something only if both verdicts occur.
    expect(illegal).toBeGreaterThan(20);
  });

  it('catches its most likely bug: pruning as if no put could come before a read', () => {
    const unsafe = fc.check(
      fc.property(caseArb, (cases) => {
        expect(checkHistory(execute(cases), { searchVariant: 'unsafe-prune-ignores-resets' }).verdict).toBe(
          'ok',
        );
      }),
      { numRuns: 300 },
    );
    expect(unsafe.failed).toBe(true);
  });
});

describe('the dead-value rules (one memo key for dead values, unobserved appends forced first)', () => {
  // Without cas (keys with a cas do not use the rules), one key, so puts, deletes and appends
  // overlap on it; '3' is appended but never read back when only '1' and '2' are read.
  const steps: fc.Arbitrary<Step> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ f: fc.constant('get' as const), key: fc.constant('a') }) },
    {
      weight: 4,
      arbitrary: fc.record({
        f: fc.constantFrom('put' as const, 'append' as const, 'append' as const),
        key: fc.constant('a'),
        value: fc.constantFrom('1', '2', '3', '12', 'u', 'u'),
      }),
    },
    { weight: 1, arbitrary: fc.record({ f: fc.constant('delete' as const), key: fc.constant('a') }) },
  );
  // 'u' becomes a text of its own ("<i>"), so that reads pin which append they saw (the needed
  // appends of append-parse.ts); the others repeat, so that splits are also ambiguous.
  const unique = (cases: Case[]): Case[] =>
    cases.map((c, i) =>
      'value' in c.step && c.step.value === 'u' ? { ...c, step: { ...c.step, value: `<${i}>` } } : c,
    );
  const casesArb = casesOf(steps).map(unique);
  const mutatedArb = mutatedOf(casesArb);

  it('change no verdict (against the search without them and the plain search)', () => {
    let illegal = 0;
    fc.assert(
      fc.property(mutatedArb, (events) => {
        const withDead = checkHistory(events, { searchVariant: 'eager' }).verdict;
        expect(withDead).toBe(checkHistory(events, { searchVariant: 'eager-no-dead' }).verdict);
        expect(withDead).toBe(checkHistory(events, { searchVariant: 'plain' }).verdict);
        if (withDead === 'illegal') illegal++;
      }),
      { numRuns: 1000 },
    );
    expect(illegal).toBeGreaterThan(50);
  });

  it.each(['unsafe-dead-forgets-observers', 'unsafe-needed-when-live'] as const)(
    'catch their most likely bug, forgetting that the value must be dead (%s)',
    (searchVariant) => {
      const unsafe = fc.check(
        fc.property(casesArb, (cases) => {
          expect(checkHistory(execute(cases), { searchVariant }).verdict).toBe('ok');
        }),
        { numRuns: 500 },
      );
      expect(unsafe.failed).toBe(true);
    },
  );
});

describe('the dead-value rules on concurrent histories', () => {
  // Many writers on one key with puts (bench/hard-histories.ts), small enough for the plain
  // search; half of them with one read made stale, one with a read changed at random.
  it('give the verdicts of the plain search', () => {
    const verdicts = { ok: 0, illegal: 0 };
    for (let seed = 1; seed <= 30; seed++) {
      const events = manyWriters({
        seed,
        clients: 8,
        keys: 1,
        operations: 36,
        putShare: 0.12,
        stale: seed % 2 === 0,
      });
      const eager = checkHistory(events, { searchVariant: 'eager' }).verdict;
      expect(eager, `seed ${seed}`).toBe(checkHistory(events, { searchVariant: 'plain' }).verdict);
      if (eager !== 'unknown') verdicts[eager]++;
    }
    expect(verdicts.ok).toBeGreaterThan(10);
    expect(verdicts.illegal).toBeGreaterThan(10);
  });
});
