// Records the run's history: every event goes to history.jsonl as it happens, through a buffer
// written in the background, so recording never blocks the event loop that times the operations
// (a write(2) per event did), and nothing stays in memory (a long run's history lives on disk; the
// check reads it back one key at a time, chaos/history-keys.ts).
import { writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { HistoryEvent } from '../checker/history-types.js';

export interface HistorySink {
  append(event: HistoryEvent): void;
}

/** Monotonic nanoseconds since the clock was made (the history's time base). */
export type Clock = () => number;

export function monotonicClock(): Clock {
  const origin = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - origin);
}

export class Recorder {
  constructor(
    private readonly sink: HistorySink,
    readonly clock: Clock,
  ) {}

  record(event: HistoryEvent): void {
    this.sink.append(event);
  }

  now(): number {
    return this.clock();
  }
}

/** Keeps the events in memory: for tests of the workload and the nemesis. */
export class MemoryHistory implements HistorySink {
  readonly events: HistoryEvent[] = [];
  append(event: HistoryEvent): void {
    this.events.push(event);
  }
}

/** Buffered events waiting for the disk; past this the run fails rather than grow (the disk stalled). */
export const HISTORY_BUFFER_BYTES_MAX = 16 * 1024 * 1024;
/** A write starts once this much is buffered, or FLUSH_INTERVAL_MS after the first buffered event. */
const FLUSH_BYTES = 64 * 1024;
const FLUSH_INTERVAL_MS = 100;

/** The disk fell HISTORY_BUFFER_BYTES_MAX behind: the history can no longer be kept whole. */
export class HistoryBufferFullError extends Error {
  override readonly name = 'HistoryBufferFullError';
  readonly code = 'HISTORY_BUFFER_FULL';
}

/**
 * Appends events to history.jsonl in the background: one write in flight at a time, in order, each
 * of whole lines, so a reader never sees half an event. A lab killed with SIGKILL loses at most the
 * last FLUSH_INTERVAL_MS of events (the file up to then is complete); close() writes the rest and fsyncs.
 */
export class HistoryFileWriter implements HistorySink {
  private pending: string[] = [];
  private pendingBytes = 0;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private handle: FileHandle | undefined;
  private failure: Error | undefined;
  private closed = false;
  private eventsWritten = 0;

  constructor(readonly path: string) {
    // The file exists from the start, so `lab serve` shows the run at once.
    writeFileSync(path, '', { flag: 'a' });
  }

  get count(): number {
    return this.eventsWritten;
  }

  append(event: HistoryEvent): void {
    if (this.closed) throw new Error(`history ${this.path} is closed`);
    if (this.failure !== undefined) throw this.failure;
    const line = `${JSON.stringify(event)}\n`;
    if (this.pendingBytes + line.length > HISTORY_BUFFER_BYTES_MAX)
      throw new HistoryBufferFullError(
        `history ${this.path}: ${this.pendingBytes} bytes are waiting for the disk (limit ${HISTORY_BUFFER_BYTES_MAX})`,
      );
    this.pending.push(line);
    this.pendingBytes += line.length;
    this.eventsWritten += 1;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /** Queues what is buffered behind the write in flight. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('');
    this.pending = [];
    const bytes = this.pendingBytes;
    this.writing = this.writing.then(async () => {
      try {
        this.handle ??= await open(this.path, 'a');
        await this.handle.write(chunk);
      } catch (error) {
        this.failure ??= new Error(`cannot write history ${this.path}: ${(error as Error).message}`);
      } finally {
        this.pendingBytes -= bytes;
      }
    });
  }

  /** Writes everything buffered, fsyncs and closes; closing twice is harmless. Throws if a write failed. */
  async close(): Promise<void> {
    if (this.closed) return this.writing;
    this.closed = true;
    this.flush();
    await this.writing;
    const handle = this.handle;
    this.handle = undefined;
    if (handle !== undefined) {
      await handle.sync();
      await handle.close();
    }
    if (this.failure !== undefined) throw this.failure;
  }
}
