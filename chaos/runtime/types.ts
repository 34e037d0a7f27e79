// The contract between the chaos lab (nemesis, workload, `lab run`) and the places a cluster runs:
// Docker containers (chaos/runtime/docker/) or local processes behind fault-injecting proxies
// (chaos/runtime/local/). The lab only ever talks to a cluster through this interface.

/** What to start: the same spec works on every runtime. */
export interface ClusterSpec {
  /** Unique per run; names and labels everything the runtime creates (containers, volumes, state files). */
  runId: string;
  /** Node ids, e.g. n1..n5. Each becomes one `lab server --id <node>`. */
  nodes: string[];
  /** Extra flags for `lab server`, e.g. ['--unsafe', 'stale-leader-read', '--election-timeout-ms', '1000']. */
  serverArgs: string[];
  /** Host folder for the nodes' data directories (local runtime; Docker keeps data on named volumes). */
  dataDir: string;
  /** Host folder where each node's log is written as it runs (local) or collected into (collectLogs). */
  logDir: string;
  /**
   * Extra environment for every server (test-only switches: RAFTLAB_LOSE_UNSYNCED,
   * RAFTLAB_FAILPOINTS). The runtime adds RAFTLAB_LAB_RUN_ID, without which a server refuses them.
   */
  serverEnv?: Readonly<Record<string, string>>;
}

/** One running node as the lab's clients see it. */
export interface NodeHandle {
  id: string;
  /** host:port of the node's client port, reachable from the host (127.0.0.1 on both runtimes). */
  clientEndpoint: string;
  /**
   * The client address the node advertises to others (its NOT_LEADER redirects name it), when it
   * differs from clientEndpoint: a container's network address. Lets the lab say which node served
   * an operation a client reached by following a redirect.
   */
  advertisedClientAddress?: string;
}

/** Node -> the nodes whose traffic it drops (Jepsen's "grudge"). Nodes not in the map drop nothing. */
export type Grudge = ReadonlyMap<string, ReadonlySet<string>>;

/** A line of progress for the lab's log (e.g. "building image raftlab-base:3f2a…"). */
export type RuntimeLogger = (message: string) => void;

export interface Runtime {
  readonly name: 'docker' | 'local';
  /**
   * Build or find what is needed (images, the built `lab` binary), then start every node and resolve
   * once every client port accepts TCP connections. Leader election is the caller's business.
   */
  start(spec: ClusterSpec): Promise<NodeHandle[]>;
  /** SIGKILL the node; it stays down until restart(). Killing a down node is a no-op. */
  kill(node: string): Promise<void>;
  /**
   * Start the node again on the same data (directory or volume) and the same ports, with the faults in
   * force (partition, packet loss) re-applied before the server runs. A running node is SIGKILLed first.
   */
  restart(node: string): Promise<void>;
  /**
   * Power loss: the node drops every write it had not fsynced and dies (SIGUSR2 to a server started
   * with RAFTLAB_LOSE_UNSYNCED=1, see server/failpoints/power.ts); it stays down until restart().
   */
  powerCut(node: string): Promise<void>;
  /**
   * Clock fault: the node's clock (its ticks, not the host's) runs at `rate` times true time and
   * jumps by offsetMs now; {rate: 1, offsetMs: 0} restores true rate. Survives a restart until reset.
   */
  setClock(node: string, setting: { rate: number; offsetMs: number }): Promise<void>;
  /** Whether the node's server process is up (false after a kill, a power cut, or a crash of its own). */
  isRunning(node: string): Promise<boolean>;
  /** Graceful stop (SIGTERM, then SIGKILL after a grace period); it stays down until restart(). */
  stop(node: string): Promise<void>;
  /** Freeze the node (SIGSTOP / docker pause); resume() thaws it. */
  pause(node: string): Promise<void>;
  resume(node: string): Promise<void>;
  /**
   * Replace the partition in force by this grudge: node B drops peer traffic from every node in
   * grudge.get(B). Client traffic from the host is never partitioned.
   */
  partition(grudge: Grudge): Promise<void>;
  /**
   * Replace the packet loss in force: peer traffic to and from each listed node is lost with this
   * probability (0 < p <= 1); an empty list removes it. How loss is modelled is per runtime (docs/runtimes.md).
   */
  packetLoss(nodes: readonly string[], probability: number): Promise<void>;
  /** Remove every partition and packet-loss rule. Paused nodes stay paused (the nemesis resumes them). */
  heal(): Promise<void>;
  /** Copy each node's log into destDir; returns node -> file written. Call before teardown. */
  collectLogs(destDir: string): Promise<Record<string, string>>;
  /** Remove everything this runtime created. Idempotent, and safe to call concurrently (e.g. from a signal). */
  teardown(): Promise<void>;
}

/** Raised for a node id that is not in the spec, or a call before start(). */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
}
