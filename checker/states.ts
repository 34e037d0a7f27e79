// Model states interned as small integers, with a memo of transitions (state id, operation) ->
// state id in one flat Int32Array, so the search's inner loop reads integers and calls the model
// only the first time it meets a pair.
import type { Model, Operation } from './model.js';

export const UNKNOWN_TRANSITION = -2;
export const ILLEGAL = -1;

export class StateTable<S> {
  readonly states: S[] = [];
  private readonly byHash = new Map<number, number[]>();
  /** transitions[state * operations + op]: the next state id, ILLEGAL or UNKNOWN_TRANSITION. */
  transitions: Int32Array;
  private readonly width: number;

  constructor(
    private readonly model: Model<S>,
    private readonly operations: readonly Operation[],
  ) {
    this.width = Math.max(1, operations.length);
    this.transitions = new Int32Array(this.width * 16).fill(UNKNOWN_TRANSITION);
  }

  intern(state: S): number {
    const hash = this.model.hash(state);
    let ids = this.byHash.get(hash);
    if (ids === undefined) this.byHash.set(hash, (ids = []));
    for (const id of ids) if (this.model.equal(this.states[id]!, state)) return id;
    const id = this.states.length;
    this.states.push(state);
    ids.push(id);
    if (this.transitions.length < this.states.length * this.width) {
      const grown = new Int32Array(this.transitions.length * 2).fill(UNKNOWN_TRANSITION);
      grown.set(this.transitions);
      this.transitions = grown;
    }
    return id;
  }

  /** The state id after operation `op` (a partition-local index) from `state`, or ILLEGAL. */
  next(state: number, op: number): number {
    const known = this.transitions[state * this.width + op]!;
    if (known !== UNKNOWN_TRANSITION) return known;
    return this.compute(state, op);
  }

  /** Calls the model; may grow (replace) `transitions`, so callers re-read it afterwards. */
  compute(state: number, op: number): number {
    const o = this.operations[op]!;
    const after = this.model.step(this.states[state]!, o.input, o.output);
    const before = this.states[state]!;
    // Reads return the very state they were given: no need to hash it again.
    const id = after === undefined ? ILLEGAL : after === before ? state : this.intern(after);
    this.transitions[state * this.width + op] = id;
    return id;
  }

  get bytes(): number {
    return this.transitions.byteLength;
  }
}
