// Chooses each operation. Written values are unique (process and a counter), so a read names the
// one write it saw and the checker's search stays narrow. CAS expects the last value anyone saw
// for the key, so it succeeds often enough to matter.
import type { CasValue, OpName } from '../../checker/history-types.js';
import type { Random } from '../random.js';

export type WorkloadOp =
  | { f: 'get'; key: string; value: null }
  | { f: 'put'; key: string; value: string }
  | { f: 'cas'; key: string; value: CasValue }
  | { f: 'append'; key: string; value: string };

export const OP_WEIGHTS: readonly (readonly [Exclude<OpName, 'delete'>, number])[] = [
  ['get', 0.45],
  ['put', 0.25],
  ['cas', 0.15],
  ['append', 0.15],
];

export class OpGenerator {
  private counter = 0;
  /** The last value seen (read, written or returned) per key. */
  private readonly lastSeen = new Map<string, string | null>();

  constructor(private readonly random: Random) {}

  next(key: string, process: number): WorkloadOp {
    const f = this.random.weighted(OP_WEIGHTS);
    switch (f) {
      case 'get':
        return { f, key, value: null };
      case 'put':
        return { f, key, value: this.unique(process) };
      case 'cas':
        return { f, key, value: { expected: this.lastSeen.get(key) ?? null, new: this.unique(process) } };
      case 'append':
        // A separator keeps appended pieces apart, so a duplicated append is visible in the value.
        return { f, key, value: `${this.unique(process)};` };
    }
  }

  /** Note a value observed for a key, so later CAS operations can expect it. */
  saw(key: string, value: string | null): void {
    this.lastSeen.set(key, value);
  }

  private unique(process: number): string {
    this.counter += 1;
    return `${process}.${this.counter}`;
  }
}
