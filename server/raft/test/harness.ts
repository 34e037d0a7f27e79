// A tiny deterministic cluster for scripted tests: real RaftNodes, an explicit message queue
// (deliver, drop, cut links), an in-memory "disk" per node, and a trace with one line per event.
import { RaftNode, type RaftConfig } from '../node.js';
import { createRng } from '../rng.js';
import type { Entry, HardState, Message, NodeId, Ready, Snapshot } from '../types.js';

export interface Disk {
  hardState: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
}

const text = new TextDecoder();
const bytes = new TextEncoder();

export function describeEntries(entries: readonly Entry[]): string {
  return `[${entries.map((e) => `${e.index}/${e.term}${e.type === 'noop' ? '' : e.type === 'normal' ? `:${text.decode(e.data)}` : ':config'}`).join(' ')}]`;
}

function describeContext(c: Uint8Array): string {
  if (c.length !== 8) return '-';
  const v = new DataView(c.buffer, c.byteOffset, 8);
  return String(v.getUint32(0) * 0x1_0000_0000 + v.getUint32(4));
}

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'append':
      return `${head} prev=${m.prevLogIndex}/${m.prevLogTerm} entries=${describeEntries(m.entries)} commit=${m.commit}`;
    case 'append-response':
      return m.success
        ? `${head} ok match=${m.matchIndex}`
        : `${head} reject=${m.rejectIndex} hint=${m.hintIndex}/${m.hintTerm}${m.logLost ? ' log-lost' : ''}`;
    case 'vote':
      return `${head}${m.preVote ? ' pre' : ''} last=${m.lastLogIndex}/${m.lastLogTerm}`;
    case 'vote-response':
      return `${head}${m.preVote ? ' pre' : ''} ${m.granted ? 'granted' : 'rejected'}`;
    case 'heartbeat':
      return `${head} commit=${m.commit} round=${describeContext(m.context)}`;
    case 'heartbeat-response':
      return `${head} round=${describeContext(m.context)}`;
    case 'snapshot':
      return `${head} snapshot=${m.metaIndex}/${m.metaTerm} offset=${m.offset} bytes=${m.data.length}/${m.totalBytes}${m.done ? ' done' : ''}`;
    case 'snapshot-response':
      return `${head} snapshot=${m.snapshotIndex} ${m.rejected ? 'rejected' : `next=${m.nextOffset}`}`;
  }
}

export const BASE_CONFIG: Omit<RaftConfig, 'id' | 'voters' | 'rng'> = {
  electionTimeoutTicksMin: 10,
  electionTimeoutTicksMax: 20,
  heartbeatIntervalTicks: 3,
  appendEntriesMax: 64,
  appendBytesMax: 1 << 20,
  inflightAppendsMax: 4,
  proposalsPendingMax: 256,
  readsPendingMax: 64,
  preVote: false,
  checkQuorum: false,
  readMode: 'read-index',
  unsafe: new Set(),
};

export type ConfigOverrides = Partial<Omit<RaftConfig, 'id' | 'voters'>>;

export class Cluster {
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly disks = new Map<NodeId, Disk>();
  readonly applied = new Map<NodeId, Entry[]>();
  readonly readsServed = new Map<NodeId, { requestId: number; index: number }[]>();
  queue: Message[] = [];
  private restarts = 0;
  readonly trace: string[] = [];
  private readonly cut = new Set<string>();
  /** When false, ready() output is held back (the driver has not persisted yet). */
  private readonly halted = new Set<NodeId>();
  private readonly perNode: Record<NodeId, ConfigOverrides>;

  constructor(
    readonly ids: readonly NodeId[],
    private readonly overrides: ConfigOverrides = {},
    private readonly seed = 1,
    perNode: Record<NodeId, ConfigOverrides> = {},
  ) {
    this.perNode = perNode;
    for (const id of ids) {
      const initial = perNode[id]?.initial;
      this.disks.set(
        id,
        initial
          ? { hardState: initial.hardState, entries: [...initial.entries] }
          : { hardState: { term: 0, vote: '', commit: 0 }, entries: [] },
      );
      this.applied.set(id, []);
      this.readsServed.set(id, []);
      this.nodes.set(id, new RaftNode(this.config(id, perNode[id] ?? {})));
    }
  }

  private config(id: NodeId, extra: ConfigOverrides): RaftConfig {
    const index = this.ids.indexOf(id);
    return {
      ...BASE_CONFIG,
      id,
      voters: this.ids,
      rng: createRng(this.seed * 1000 + index),
      ...this.overrides,
      ...extra,
    };
  }

  node(id: NodeId): RaftNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  log(line: string): void {
    this.trace.push(line);
  }

  text(): string {
    return this.trace.join('\n') + '\n';
  }

  /** Handles every pending Ready of every node (or of `only`), like a driver would. */
  flush(only?: NodeId): void {
    for (const [id, n] of this.nodes) {
      if (only !== undefined && id !== only) continue;
      if (this.halted.has(id)) continue;
      while (n.hasReady()) this.handleReady(id, n.ready());
    }
  }

  private handleReady(id: NodeId, rd: Ready): void {
    const node = this.node(id);
    if (rd.softState) {
      const st = node.status();
      this.log(
        `${id} became ${rd.softState.role} term ${st.term}${rd.softState.leader ? ` leader=${rd.softState.leader}` : ''}`,
      );
    }
    for (const n of rd.notices) this.log(`${id} NOTICE ${n.code}: ${n.text}`);
    this.persist(id, rd);
    if (rd.snapshot) {
      // The harness's state machine is the list of applied entries; its image is that list.
      this.applied.set(id, decodeImage(rd.snapshot.data));
      this.log(`${id} install snapshot ${rd.snapshot.meta.index}/${rd.snapshot.meta.term}`);
    }
    for (const m of rd.messages) this.queue.push(m);
    for (const e of rd.committedEntries) {
      (this.applied.get(id) as Entry[]).push(e);
      this.log(`${id} apply ${describeEntries([e])}`);
    }
    for (const r of rd.readStates) {
      (this.readsServed.get(id) as { requestId: number; index: number }[]).push(r);
      this.log(`${id} read ${r.requestId} ready at index ${r.index}`);
    }
    for (const r of rd.droppedReads) this.log(`${id} read ${r} dropped`);
    node.advance();
  }

  private persist(id: NodeId, rd: Ready): void {
    const disk = this.disks.get(id) as Disk;
    if (rd.snapshot) {
      disk.snapshot = rd.snapshot;
      disk.entries = [];
      this.log(`${id} persist snapshot=${rd.snapshot.meta.index}/${rd.snapshot.meta.term}`);
    }
    if (rd.entries.length > 0) {
      const first = (rd.entries[0] as Entry).index;
      const offset = disk.snapshot?.meta.index ?? 0;
      disk.entries.length = Math.max(0, Math.min(disk.entries.length, first - 1 - offset));
      disk.entries.push(...rd.entries);
      this.log(`${id} persist entries=${describeEntries(rd.entries)}`);
    }
    if (rd.hardState) {
      const before = disk.hardState;
      disk.hardState = rd.hardState;
      if (before.term !== rd.hardState.term || before.vote !== rd.hardState.vote) {
        this.log(`${id} persist term=${rd.hardState.term} vote=${rd.hardState.vote || '-'}`);
      }
      if ((before.recoveryIndex ?? 0) !== (rd.hardState.recoveryIndex ?? 0)) {
        this.log(`${id} persist recoveryIndex=${rd.hardState.recoveryIndex ?? 0}`);
      }
    }
  }

  /** Delivers the messages queued now (not the ones they cause), then flushes. Returns how many. */
  deliver(filter: (m: Message) => boolean = () => true): number {
    const batch = this.queue.filter(filter);
    this.queue = this.queue.filter((m) => !filter(m));
    for (const m of batch) {
      if (this.cut.has(`${m.from}|${m.to}`) || !this.nodes.has(m.to)) {
        this.log(`drop ${describeMessage(m)}`);
        continue;
      }
      this.log(describeMessage(m));
      this.node(m.to).step(m);
      this.flush(m.to);
    }
    return batch.length;
  }

  /** Delivers the queued message at `position` only (reordering), then flushes its receiver. */
  deliverOne(position: number, duplicate = false): void {
    const m = this.queue[position];
    if (!m) return;
    if (!duplicate) this.queue.splice(position, 1);
    if (this.cut.has(`${m.from}|${m.to}`) || !this.nodes.has(m.to)) {
      this.log(`drop ${describeMessage(m)}`);
      return;
    }
    this.log(`${duplicate ? 'dup ' : ''}${describeMessage(m)}`);
    this.node(m.to).step(m);
    this.flush(m.to);
  }

  /** Drops queued messages matching `filter`, tracing each. */
  drop(filter: (m: Message) => boolean): void {
    for (const m of this.queue.filter(filter)) this.log(`drop ${describeMessage(m)}`);
    this.queue = this.queue.filter((m) => !filter(m));
  }

  /** Delivers until no message is left; messages matching `dropIf` are dropped instead. */
  stabilize(dropIf?: (m: Message) => boolean, roundsMax = 200): void {
    this.flush();
    for (let i = 0; i < roundsMax; i++) {
      if (dropIf) this.drop(dropIf);
      if (this.deliver() === 0) return;
    }
    throw new Error('cluster did not stabilize');
  }

  /** `ticks` times: every node ticks once, then the network settles. */
  run(ticks: number, dropIf?: (m: Message) => boolean): void {
    for (let i = 0; i < ticks; i++) {
      this.tickAll(1);
      this.stabilize(dropIf);
    }
  }

  tick(id: NodeId, count = 1): void {
    for (let i = 0; i < count; i++) {
      this.node(id).tick();
      this.flush(id);
    }
  }

  tickAll(count = 1): void {
    for (let i = 0; i < count; i++) for (const id of this.ids) if (this.nodes.has(id)) this.tick(id);
  }

  campaign(id: NodeId): void {
    this.log(`${id} campaigns`);
    this.node(id).campaign();
    this.flush(id);
  }

  propose(id: NodeId, data: string): ReturnType<RaftNode['propose']> {
    const r = this.node(id).propose(bytes.encode(data));
    this.log(`${id} propose ${data}: ${r.ok ? `index ${r.index}` : r.error.code}`);
    this.flush(id);
    return r;
  }

  read(id: NodeId, requestId: number): void {
    const err = this.node(id).readIndex(requestId);
    this.log(
      `${id} read ${requestId} requested${err ? `: ${err.code}${err.leaderHint ? ` leader=${err.leaderHint}` : ''}` : ''}`,
    );
    this.flush(id);
  }

  /** Cuts both directions between each node of `a` and each node of `b`. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    this.log(`partition [${a.join(' ')}] | [${b.join(' ')}]`);
    for (const x of a) for (const y of b) this.cut.add(`${x}|${y}`).add(`${y}|${x}`);
  }

  isolate(id: NodeId): void {
    this.partition(
      [id],
      this.ids.filter((x) => x !== id),
    );
  }

  heal(): void {
    this.log('heal');
    this.cut.clear();
  }

  /** The driver holds this node's Ready output (it has not persisted yet). */
  halt(id: NodeId): void {
    this.halted.add(id);
  }

  resume(id: NodeId): void {
    this.halted.delete(id);
    this.flush(id);
  }

  /**
   * The node snapshots its state machine at its applied index (the snapshot is durable at once in
   * this harness), then compacts its log through `compactThrough` (default: the snapshot index).
   */
  takeSnapshot(id: NodeId, compactThrough?: number): Snapshot {
    const node = this.node(id);
    const index = node.status().applied;
    const snapshot = {
      meta: { index, term: node.termAt(index) ?? 0 },
      data: encodeImage(this.applied.get(id) ?? []),
    };
    const disk = this.disks.get(id) as Disk;
    const through = compactThrough ?? index;
    disk.snapshot = snapshot;
    disk.entries = disk.entries.filter((e) => e.index > index);
    node.snapshotTaken(snapshot);
    node.compact(through);
    this.log(
      `${id} snapshot ${index}/${snapshot.meta.term} (${snapshot.data.length} bytes), compact through ${through}`,
    );
    return snapshot;
  }

  /** Crash (lose everything not on disk) and restart from the disk. */
  restart(id: NodeId, extra: ConfigOverrides = {}): void {
    const disk = this.disks.get(id) as Disk;
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
    this.applied.set(id, []);
    this.log(
      `${id} restarts from term=${disk.hardState.term} vote=${disk.hardState.vote || '-'} commit=${disk.hardState.commit} entries=${describeEntries(disk.entries)}`,
    );
    this.nodes.set(
      id,
      new RaftNode({
        ...this.config(id, extra),
        initial: { hardState: disk.hardState, entries: [...disk.entries], snapshot: disk.snapshot },
        ...(disk.snapshot ? { applied: disk.snapshot.meta.index } : {}),
      }),
    );
    if (disk.snapshot) this.applied.set(id, decodeImage(disk.snapshot.data));
    this.flush(id);
  }

  /**
   * A lost disk: keeps the first `keep` entries of `id`'s log; with `keep` 0 the hard state goes
   * too (a wiped data directory). Call restart() next.
   */
  loseLog(id: NodeId, keep: number): void {
    const disk = this.disks.get(id) as Disk;
    disk.entries.length = Math.min(keep, disk.entries.length);
    if (keep === 0) disk.hardState = { term: 0, vote: '', commit: 0 };
    this.log(keep === 0 ? `${id} loses its whole disk` : `${id} loses its log after index ${keep}`);
  }

  /** Drives everything until `id` leads: campaign, then deliver. */
  elect(id: NodeId, dropIf?: (m: Message) => boolean): void {
    this.campaign(id);
    this.stabilize(dropIf);
  }

  leaders(): NodeId[] {
    return [...this.nodes].filter(([, n]) => n.status().role === 'leader').map(([id]) => id);
  }

  appliedData(id: NodeId): string[] {
    return (this.applied.get(id) ?? []).filter((e) => e.type === 'normal').map((e) => text.decode(e.data));
  }
}

/** Builds a log from a list of terms (index = position + 1), as the paper's figures draw them. */
export function logOf(terms: readonly number[]): Entry[] {
  return terms.map((term, i) => ({
    term,
    index: i + 1,
    type: 'normal' as const,
    data: bytes.encode(`e${i + 1}`),
  }));
}

export function restored(
  terms: readonly number[],
  term: number,
  commit = 0,
  vote: NodeId | '' = '',
): ConfigOverrides {
  return { initial: { hardState: { term, vote, commit }, entries: logOf(terms) } };
}

export const isAppendTo =
  (to: NodeId, index?: number) =>
  (m: Message): boolean =>
    m.type === 'append' && m.to === to && (index === undefined || m.entries.some((e) => e.index === index));

/** The harness state machine's image: its applied entries, one JSON array. */
function encodeImage(entries: readonly Entry[]): Uint8Array {
  const plain = entries.map((e) => [e.term, e.index, e.type, text.decode(e.data)]);
  return bytes.encode(JSON.stringify(plain));
}

function decodeImage(data: Uint8Array): Entry[] {
  const plain = JSON.parse(text.decode(data)) as [number, number, Entry['type'], string][];
  return plain.map(([term, index, type, d]) => ({ term, index, type, data: bytes.encode(d) }));
}
