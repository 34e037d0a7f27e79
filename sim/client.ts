// Simulated client processes. Each runs one operation at a time against the cluster: it sends the
// request to the node it believes is leader, follows NOT_LEADER hints, retries after a timeout
// (writes keep their session sequence, so a retry is deduplicated), and gives up at a deadline.
// The outcome is recorded in the history: ok, fail (definitely did not happen) or info (may have
// happened); a process that recorded info never issues again, and a fresh process takes its place.
import type { ClientEvent, EventValue, HistoryEvent } from '../checker/history-types.js';
import type { KvResult } from '../server/kv/state-machine.js';
import { SIM_TIMING } from './config.js';
import type { ClientRequest, ClientResponse } from './packets.js';
import type { SimRng } from './rng.js';
import type { PlannedOp, Workload } from './workload.js';

const td = new TextDecoder();
const HOME_NODE_PROBABILITY = 0.3;
/**
 * After an ok, a process ends with this probability and a new one (a new session) takes its slot,
 * as client programs come and go: abandoned sessions fill the state machine's small session table
 * in simulation (SIM_KV_LIMITS), so eviction and idle expiry run in every seed of 2,000 operations.
 */
const PROCESS_END_PROBABILITY = 0.02;

export interface ClientEnv {
  now(): number;
  send(request: ClientRequest, hedge: boolean): void;
  /** Calls `client.wake(token)` at `time`. */
  wakeAt(time: number, client: SimClient, token: number): void;
  record(event: HistoryEvent): void;
  nextRequestId(): number;
  /** Asks whether the run wants another operation; false once the budget is spent. */
  takeOp(): boolean;
  opDone(): void;
  observedRead(key: string, value: string | null, node: string): void;
}

interface InFlight {
  readonly planned: PlannedOp;
  readonly sequence: number;
  readonly deadline: number;
  requestId: number;
  target: string;
  /** True once any attempt may have reached the state machine. */
  maybeApplied: boolean;
}

export class SimClient {
  process: number;
  private clientId: number;
  private sequence = 0;
  private current: InFlight | undefined;
  /** Distinguishes this client's timers: a wake with an older token is stale. */
  private token = 0;
  private timer: 'attempt' | 'backoff' = 'attempt';
  private leaderGuess: string;
  private readonly home: string;

  constructor(
    readonly endpoint: string,
    firstProcess: number,
    private readonly nodes: readonly string[],
    private readonly rng: SimRng,
    private readonly workload: Workload,
    private readonly env: ClientEnv,
    private readonly hedgeProbability: number,
    /** Process ids of one slot are slot, slot + stride, ...: unique across slots. */
    private readonly processStride: number,
  ) {
    this.process = firstProcess;
    this.clientId = firstProcess + 1;
    this.leaderGuess = rng.pick(nodes);
    this.home = nodes[firstProcess % nodes.length] ?? this.leaderGuess;
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Starts the next operation if the budget allows. */
  startNext(): void {
    if (this.current !== undefined || !this.env.takeOp()) return;
    const planned = this.workload.next(this.process);
    const write = planned.f !== 'get';
    this.current = {
      planned,
      sequence: write ? ++this.sequence : 0,
      deadline: this.env.now() + SIM_TIMING.clientOpDeadlineNs,
      requestId: 0,
      // Like a Jepsen client bound to its node, an operation sometimes starts at the client's home
      // node rather than at the believed leader: clients keep talking to deposed leaders.
      target: this.rng.chance(HOME_NODE_PROBABILITY) ? this.home : this.leaderGuess,
      maybeApplied: false,
    };
    this.recordEvent('invoke', planned.value);
    this.attempt();
  }

  private attempt(): void {
    const c = this.current;
    if (c === undefined) return;
    c.requestId = this.env.nextRequestId();
    const write = c.planned.f !== 'get';
    const hedge = write && this.rng.chance(this.hedgeProbability);
    if (write) c.maybeApplied ||= hedge;
    this.env.send(
      {
        kind: 'request',
        from: this.endpoint,
        to: c.target,
        requestId: c.requestId,
        clientId: write ? this.clientId : 0,
        sequence: c.sequence,
        ackedSequence: write ? c.sequence - 1 : 0,
        op: c.planned.op,
      },
      hedge,
    );
    this.timer = 'attempt';
    this.env.wakeAt(this.env.now() + SIM_TIMING.clientAttemptTimeoutNs, this, ++this.token);
  }

  /** A timer fired: the attempt timed out, or a backoff ended. */
  wake(token: number): void {
    const c = this.current;
    if (c === undefined || token !== this.token) return; // stale timer
    if (this.timer === 'backoff') return this.attempt();
    // No answer in time: a write may have been proposed and may still commit.
    if (c.planned.f !== 'get') c.maybeApplied = true;
    this.retryOrGiveUp(this.otherNode(c.target), 'TIMEOUT');
  }

  receive(response: ClientResponse): void {
    const c = this.current;
    if (c === undefined || response.requestId !== c.requestId) return; // a late answer to an old attempt
    const r = response.result;
    if (r.ok) return this.complete(r, response.from);
    const { code, definite, leaderHint } = r.error;
    if (code === 'CAS_MISMATCH' || code === 'TOO_LARGE' || code === 'BAD_REQUEST')
      return this.finish('fail', code, response.from);
    if (code === 'SESSION_EXPIRED') return this.finish('info', code, response.from);
    if (!definite && c.planned.f !== 'get') c.maybeApplied = true;
    const hinted = leaderHint !== undefined && leaderHint !== '' && leaderHint !== c.target;
    // A hint is followed at once; without one the client backs off before trying another node.
    this.retryOrGiveUp(
      hinted ? leaderHint : this.otherNode(c.target),
      code,
      hinted ? 0 : SIM_TIMING.clientRetryBackoffNs,
    );
  }

  private retryOrGiveUp(
    next: string,
    code: string,
    backoffNs: number = SIM_TIMING.clientRetryBackoffNs,
  ): void {
    const c = this.current;
    if (c === undefined) return;
    const now = this.env.now();
    if (now + backoffNs >= c.deadline) {
      const definitelyNot = c.planned.f === 'get' || !c.maybeApplied;
      return this.finish(definitelyNot ? 'fail' : 'info', code, c.target);
    }
    c.target = next;
    this.leaderGuess = next;
    c.requestId = 0; // answers to the old attempt are now ignored
    this.timer = 'backoff';
    this.env.wakeAt(now + backoffNs, this, ++this.token);
  }

  private complete(r: Extract<KvResult, { ok: true }>, node: string): void {
    const c = this.current;
    if (c === undefined) return;
    const value = r.value === undefined ? null : td.decode(r.value);
    switch (c.planned.f) {
      case 'get':
        this.workload.observe(c.planned.key, value);
        this.env.observedRead(c.planned.key, value, node);
        return this.finish('ok', undefined, node, value);
      case 'append':
        if (value !== null) this.workload.observe(c.planned.key, value);
        return this.finish('ok', undefined, node, c.planned.value, value ?? undefined);
      case 'put':
        this.workload.observe(c.planned.key, c.planned.value as string);
        return this.finish('ok', undefined, node);
      case 'cas': {
        const v = c.planned.value as { new: string };
        this.workload.observe(c.planned.key, v.new);
        return this.finish('ok', undefined, node);
      }
      case 'delete':
        this.workload.observe(c.planned.key, null);
        return this.finish('ok', undefined, node);
    }
  }

  private finish(
    type: 'ok' | 'fail' | 'info',
    error: string | undefined,
    node: string,
    value?: EventValue,
    result?: string,
  ): void {
    const c = this.current;
    if (c === undefined) return;
    this.recordEvent(type, value === undefined ? c.planned.value : value, error, node, result);
    this.current = undefined;
    this.token++;
    if (type === 'info' || (type === 'ok' && this.rng.chance(PROCESS_END_PROBABILITY))) this.retire();
    this.env.opDone();
  }

  /** After an info the process may still have an operation in flight; a new process takes over (also when a process ends). */
  private retire(): void {
    this.process += this.processStride;
    this.clientId = this.process + 1;
    this.sequence = 0;
  }

  private otherNode(than: string): string {
    if (this.nodes.length === 1) return than;
    let n = than;
    while (n === than) n = this.rng.pick(this.nodes);
    return n;
  }

  private recordEvent(
    type: ClientEvent['type'],
    value: EventValue,
    error?: string,
    node?: string,
    result?: string,
  ): void {
    const c = this.current;
    if (c === undefined) return;
    // Optional fields are added in this order (error, result, node): the JSON key order of the history.
    const event: { -readonly [K in keyof ClientEvent]: ClientEvent[K] } = {
      type,
      process: this.process,
      f: c.planned.f,
      key: c.planned.key,
      value,
      time: this.env.now(),
    };
    if (error !== undefined) event.error = error;
    if (result !== undefined) event.result = result;
    if (node !== undefined) event.node = node;
    this.env.record(event);
  }
}
