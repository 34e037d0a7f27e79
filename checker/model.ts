// The model interface: a sequential specification as a record of pure functions, as in Porcupine.
// Every model reads the same operations (built from ClientEvents by operations.ts).
import type { OpName } from './history-types.js';

/** What a client asked for. */
export interface OpInput {
  readonly f: OpName;
  readonly key: string;
  /** put/append: the value written; cas: the new value; get/delete: null. */
  readonly value: string | null;
  /** cas only: the value it expects (null: the key must be absent). */
  readonly expected: string | null;
}

/** What the client saw. `unknown` (an `info` completion) must be accepted from every state. */
export interface OpOutput {
  readonly unknown: boolean;
  /** get: the value read (null: absent); append: the value after the append, when reported. */
  readonly value?: string | null;
  /** cas: whether the compare matched (a cas that failed with CAS_MISMATCH has false). */
  readonly matched?: boolean;
}

export interface Operation {
  /** The position of its invocation in the history's events: unique and stable. */
  readonly id: number;
  readonly process: number;
  /** Nanoseconds; `ret` is Infinity for an operation that never returned (info). */
  readonly call: number;
  readonly ret: number;
  readonly input: OpInput;
  readonly output: OpOutput;
  /** Positions of the invocation and completion in the event list (-1: none). */
  readonly invokeIndex: number;
  readonly completeIndex: number;
}

export interface Model<S> {
  readonly name: string;
  init(): S;
  /** The state after applying the operation, or undefined when the output is impossible. */
  step(state: S, input: OpInput, output: OpOutput): S | undefined;
  /**
   * Optional: true when the operation never changes the state (a read, a cas whose compare
   * failed). The search uses it to prune: such an operation, if legal now, may as well go now.
   */
  readOnly?(input: OpInput, output: OpOutput): boolean;
  equal(a: S, b: S): boolean;
  /** A 32-bit hash; equal states must hash alike. */
  hash(state: S): number;
  /** Independent sub-histories (P-compositionality), each with a name such as the key. */
  partition(operations: readonly Operation[]): Map<string, Operation[]>;
  describeOperation(input: OpInput, output: OpOutput): string;
  describeState(state: S): string;
}

/** FNV-1a over UTF-16 code units: cheap, and good enough for a hash table with equality checks. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function quote(value: string | null | undefined): string {
  if (value === null || value === undefined) return 'nil';
  return JSON.stringify(value);
}
