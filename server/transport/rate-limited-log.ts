// Warnings that a remote party can trigger at will (a stray node redialling every second, a flood
// of connections over the limit) must not flood the log: the first line for a key is written, later
// ones within `intervalMs` are counted, and the next line written for that key says how many were
// suppressed. Keys are bounded (keysMax): past it the oldest key is forgotten.
import type { LogFields, Logger } from '../../shared/log.js';

export class RateLimitedLog {
  private readonly lastWriteMs = new Map<string, { atMs: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly keysMax = 1024,
  ) {}

  warn(key: string, message: string, fields: LogFields = {}): void {
    const nowMs = performance.now();
    const last = this.lastWriteMs.get(key);
    if (last !== undefined && nowMs - last.atMs < this.intervalMs) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.lastWriteMs.delete(key); // re-insert: the Map's order is then least recently written first
    if (this.lastWriteMs.size >= this.keysMax) this.lastWriteMs.delete(this.lastWriteMs.keys().next().value!);
    this.lastWriteMs.set(key, { atMs: nowMs, suppressed: 0 });
    this.logger.warn(message, suppressed > 0 ? { ...fields, suppressedSimilar: suppressed } : fields);
  }
}
