// KvStates (states as ids, appends as parent pointers) must step exactly like the kv model on
// strings, and give one id per distinct value (the memo table relies on it).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ILLEGAL, KvStates } from '../kv-states.js';
import { MemoryBudget } from '../memory.js';
import type { OpInput, OpOutput, Operation } from '../model.js';
import { kvModel } from '../models/kv.js';

const text = fc.constantFrom('', 'a', 'b', 'ab', 'ba', 'aba');
const opArb: fc.Arbitrary<{ input: OpInput; output: OpOutput }> = fc.oneof(
  fc.record({
    input: fc.record({
      f: fc.constant('get' as const),
      key: fc.constant('k'),
      value: fc.constant(null),
      expected: fc.constant(null),
    }),
    output: fc.record({ unknown: fc.constant(false), value: fc.option(text) }),
  }),
  fc.record({
    input: fc.record({
      f: fc.constantFrom('put' as const, 'append' as const),
      key: fc.constant('k'),
      value: text,
      expected: fc.constant(null),
    }),
    output: fc.oneof(
      fc.record({ unknown: fc.boolean() }),
      fc.record({ unknown: fc.constant(false), value: fc.option(text) }),
    ),
  }),
  fc.record({
    input: fc.record({
      f: fc.constant('delete' as const),
      key: fc.constant('k'),
      value: fc.constant(null),
      expected: fc.constant(null),
    }),
    output: fc.record({ unknown: fc.boolean() }),
  }),
  fc.record({
    input: fc.record({
      f: fc.constant('cas' as const),
      key: fc.constant('k'),
      value: text,
      expected: fc.option(text),
    }),
    output: fc.record({ unknown: fc.boolean(), matched: fc.boolean() }),
  }),
);

function operations(list: { input: OpInput; output: OpOutput }[]): Operation[] {
  return list.map(({ input, output }, id) => ({
    id,
    process: id,
    call: id,
    ret: id + 1,
    input,
    output,
    invokeIndex: id,
    completeIndex: id,
  }));
}

describe('KvStates', () => {
  it.each([false, true])('steps like the kv model on strings (absent is empty: %s)', (absentIsEmpty) => {
    const model = kvModel({ absentIsEmpty });
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (list, walk) => {
          const ops = operations(list);
          const states = new KvStates(ops, absentIsEmpty, new MemoryBudget(1 << 24));
          const ids = new Map<string | null, number>();
          let id = states.initial;
          let value = model.init();
          for (const pick of walk) {
            const op = pick % ops.length;
            const after = model.step(value, ops[op]!.input, ops[op]!.output);
            const next = states.next(id, op);
            if (after === undefined) {
              expect(next).toBe(ILLEGAL);
              continue;
            }
            expect(states.materialize(next)).toBe(after);
            // One id per value, however it was reached.
            if (ids.has(after)) expect(next).toBe(ids.get(after));
            ids.set(after, next);
            id = next;
            value = after;
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('costs the same per state however long the value grows', () => {
    const ops = operations(
      Array.from({ length: 2000 }, (_, i) => ({
        input: { f: 'append' as const, key: 'k', value: `x ${i} y`, expected: null },
        output: { unknown: false },
      })),
    );
    const states = new KvStates(ops, false, new MemoryBudget(1 << 26));
    const before = states.bytes;
    let id = states.initial;
    for (let op = 0; op < ops.length; op++) id = states.next(id, op);
    expect(states.materialize(id)!.length).toBeGreaterThan(14_000);
    // 2,000 states of up to 15k characters: a few dozen bytes each, not their length.
    expect((states.bytes - before) / states.size).toBeLessThan(100);
    expect(states.describe(id)).toMatch(/^…".*x 1999 y" \(\d+ characters\)$/);
  });

  it('answers OUT_OF_MEMORY instead of growing past its budget', () => {
    const ops = operations(
      Array.from({ length: 20_000 }, (_, i) => ({
        input: { f: 'append' as const, key: 'k', value: String(i), expected: null },
        output: { unknown: false },
      })),
    );
    const budget = new MemoryBudget(1 << 20);
    const states = new KvStates(ops, false, budget);
    let id = states.initial;
    let op = 0;
    while (id >= 0 && op < ops.length) id = states.next(id, op++);
    expect(id).toBe(-4);
    expect(budget.bytesPeak).toBeLessThanOrEqual(1 << 20);
  });
});
