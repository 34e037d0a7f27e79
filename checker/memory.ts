// One memory budget for a whole check: every structure the searches keep (states, memo tables,
// prefix hashes) asks it before growing, so the sum over all keys stays under one figure instead
// of each key having a limit of its own.
import { totalmem } from 'node:os';

let totalmemBytes: number | undefined;

/** The default budget: a quarter of the machine's memory, leaving room for everything else. */
export function defaultMemoryBytesMax(): number {
  // Asked once: the machine's memory does not change, and a simulator sweep checks a history per seed.
  totalmemBytes ??= totalmem();
  return Math.floor(totalmemBytes / 4);
}

export class MemoryBudget {
  private used = 0;
  private peak = 0;

  constructor(readonly bytesMax: number) {
    if (!(bytesMax > 0)) throw new Error(`a memory budget must be positive, not ${bytesMax}`);
  }

  /** Takes `bytes` from the budget; false (and nothing taken) when that would pass the maximum. */
  reserve(bytes: number): boolean {
    if (this.used + bytes > this.bytesMax) return false;
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
    if (this.used < 0)
      throw new Error(`internal: memory budget released more than it reserved (${this.used})`);
  }

  get bytesUsed(): number {
    return this.used;
  }

  get bytesPeak(): number {
    return this.peak;
  }
}

export function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MiB`;
}

const UNITS: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** "512MiB", "2G", "1.5 GiB" (binary units) to bytes; undefined when it is not such a size. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt])(?:i?b)?$/i.exec(text.trim());
  if (m === null) return undefined;
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  return bytes > 0 ? bytes : undefined;
}
