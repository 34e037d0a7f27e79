// The workload: `concurrency` logical clients as concurrent async tasks, each issuing one
// operation at a time at a share of the total rate. An indeterminate outcome (`info`) retires the
// process: the checker needs every process to be sequential, and an info op may still be running.
import type { ClientEvent } from '../../checker/history-types.js';
import { realClock, type LabClock } from '../clock.js';
import type { Random } from '../random.js';
import type { Recorder } from '../recorder.js';
import { sleep, withDeadline } from '../sleep.js';
import { classifyError, type ClientFactory, type ClientMode, type LabClient } from './client.js';
import { OpGenerator, type WorkloadOp } from './generator.js';
import { KeyPool } from './keys.js';

export interface WorkloadOptions {
  concurrency: number;
  rateOpsPerSec: number;
  opsPerKey: number;
  /** Keys in play at once; fewer keys means more reads racing writes on the same key. */
  keysActive: number;
  /** A guard over the client's own timeout: an op that never settles becomes `info`. */
  opDeadlineMs: number;
  /** Cluster size: worker w's home node is w mod nodes, for every process it runs. */
  nodes: number;
  /** How clients pick their node (client.ts, ClientMode). */
  clientMode: ClientMode;
}

export interface WorkloadCounters {
  invoked: number;
  ok: number;
  fail: number;
  info: number;
  /** Time of the first operation's invocation (history nanoseconds), once there is one. */
  firstInvokeNs: number | null;
}

export class Workload {
  readonly keys: KeyPool;
  readonly counters: WorkloadCounters = { invoked: 0, ok: 0, fail: 0, info: 0, firstInvokeNs: null };
  private readonly generator: OpGenerator;
  private nextProcess: number;

  constructor(
    private readonly options: WorkloadOptions,
    private readonly clients: ClientFactory,
    private readonly recorder: Recorder,
    private readonly random: Random,
    private readonly clock: LabClock = realClock,
  ) {
    this.keys = new KeyPool(options.keysActive, options.opsPerKey);
    this.generator = new OpGenerator(random);
    this.nextProcess = options.concurrency;
  }

  /** Runs until the signal aborts; resolves once every worker's operation in flight has settled. */
  async run(signal: AbortSignal): Promise<void> {
    const workers = Array.from({ length: this.options.concurrency }, (_, i) => this.worker(i, signal));
    await Promise.all(workers);
  }

  /** A process id never used before (for retired processes and the final reads). */
  freshProcess(): number {
    return this.nextProcess++;
  }

  /**
   * A worker keeps its home node (and whether it is pinned) across the processes it runs, as a
   * Jepsen worker thread stays bound to its node: the clients of an isolated node keep asking it.
   */
  private async worker(worker: number, signal: AbortSignal): Promise<void> {
    let process = worker;
    const home = this.home(worker);
    const pinned = this.isPinned(worker);
    let client = this.clients(process, home, pinned);
    const meanGapMs = (1000 * this.options.concurrency) / this.options.rateOpsPerSec;
    let nextStartMs = this.clock.nowMs() + this.random.between(0, 2 * meanGapMs);
    try {
      while (!signal.aborted) {
        await sleep(nextStartMs - this.clock.nowMs(), signal, this.clock);
        if (signal.aborted) break;
        nextStartMs =
          Math.max(nextStartMs, this.clock.nowMs() - meanGapMs) + this.random.between(0, 2 * meanGapMs);
        const op = this.generator.next(this.keys.take(this.random), process);
        const outcome = await this.invokeWith(client, process, op, home, pinned);
        if (outcome === 'info') {
          await closeQuietly(client);
          process = this.freshProcess();
          client = this.clients(process, home, pinned);
        }
      }
    } finally {
      await closeQuietly(client);
    }
  }

  home(process: number): number {
    return process % this.options.nodes;
  }

  /** mixed: workers 0..nodes-1 pinned, the next `nodes` following the leader, and so on. */
  isPinned(worker: number): boolean {
    const mode = this.options.clientMode;
    return mode === 'pinned' || (mode === 'mixed' && Math.floor(worker / this.options.nodes) % 2 === 0);
  }

  /**
   * A leader-following worker reads through a fresh client that asks its home node first, so a
   * node that wrongly believes it still leads is asked directly, not only the leader its writes found.
   */
  private async invokeWith(
    client: LabClient,
    process: number,
    op: WorkloadOp,
    home: number,
    pinned: boolean,
  ): Promise<'ok' | 'fail' | 'info'> {
    if (op.f !== 'get' || pinned) return this.invoke(client, process, op);
    const reader = this.clients(process, home, false);
    try {
      return await this.invoke(reader, process, op);
    } finally {
      await closeQuietly(reader);
    }
  }

  /** Issues one operation and records its invocation and completion. */
  async invoke(client: LabClient, process: number, op: WorkloadOp): Promise<'ok' | 'fail' | 'info'> {
    const invokeTime = this.recorder.now();
    this.counters.firstInvokeNs ??= invokeTime;
    this.counters.invoked += 1;
    this.recorder.record({
      type: 'invoke',
      process,
      f: op.f,
      key: op.key,
      value: op.value,
      time: invokeTime,
    });
    try {
      const call = perform(client, op);
      const result = await withDeadline(
        call,
        this.options.opDeadlineMs,
        () => new Error('operation deadline'),
        this.clock,
      );
      this.complete({ type: 'ok', process, ...withResult(op, result), ...servedBy(client) });
      this.generator.saw(op.key, observed(op, result));
      return 'ok';
    } catch (error) {
      const { type, code } = classifyError(error);
      this.complete({
        type,
        process,
        f: op.f,
        key: op.key,
        value: op.value,
        error: code,
        ...servedBy(client),
      });
      return type;
    }
  }

  private complete(event: Omit<ClientEvent, 'time'>): void {
    this.counters[event.type as 'ok' | 'fail' | 'info'] += 1;
    this.recorder.record({ ...event, time: this.recorder.now() } as ClientEvent);
  }
}

/** The completion's `node` field: who served the operation or gave its error, when the client knows. */
function servedBy(client: LabClient): { node?: string } {
  const node = client.servedBy?.();
  return node === undefined ? {} : { node };
}

function perform(client: LabClient, op: WorkloadOp): Promise<string | null | void> {
  switch (op.f) {
    case 'get':
      return client.get(op.key);
    case 'put':
      return client.put(op.key, op.value);
    case 'cas':
      return client.cas(op.key, op.value.expected, op.value.new);
    case 'append':
      return client.append(op.key, op.value);
  }
}

/** The completion's value fields: a read's value is what it read; an append may report the whole value. */
function withResult(
  op: WorkloadOp,
  result: string | null | void,
): Pick<ClientEvent, 'f' | 'key' | 'value' | 'result'> {
  if (op.f === 'get') return { f: op.f, key: op.key, value: result ?? null };
  if (op.f === 'append' && typeof result === 'string')
    return { f: op.f, key: op.key, value: op.value, result };
  return { f: op.f, key: op.key, value: op.value };
}

function observed(op: WorkloadOp, result: string | null | void): string | null {
  if (op.f === 'get') return result ?? null;
  if (op.f === 'put') return op.value;
  if (op.f === 'cas') return op.value.new;
  return typeof result === 'string' ? result : null;
}

export async function closeQuietly(client: LabClient): Promise<void> {
  try {
    await client.close();
  } catch {
    // A client that fails to close has nothing left to lose; the run goes on.
  }
}
