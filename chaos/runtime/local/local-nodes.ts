// The one launcher of local server processes, behind both `lab cluster` (server/local-cluster.ts)
// and the lab's local runtime: a set of nodes, each a NodeProcess, and the state file that records
// them, kept up to date after every start, kill and stop (so the file always names the live pid).
import { RuntimeError } from '../types.js';
import { NodeProcess, type NodeLaunch } from './node-process.js';
import { readLocalState, writeLocalState, type LocalRunState } from './state.js';

export interface LocalNodesOptions {
  /** How long a start waits for a node to be up. */
  startTimeoutMs: number;
  /** stop(): SIGTERM, then SIGKILL after this long. */
  stopGraceMs: number;
  /** The nodes outlive this process (`lab cluster start` exits at once). */
  outliveUs?: boolean;
  /** Each node in its own process group (default), out of reach of a Ctrl-C at our terminal. */
  ownProcessGroup?: boolean;
  cwd?: string;
}

export class LocalNodes {
  private readonly processes = new Map<string, NodeProcess>();
  private saving = true;

  constructor(
    readonly state: LocalRunState,
    readonly stateFile: string,
    private readonly options: LocalNodesOptions,
  ) {
    for (const [id, node] of Object.entries(state.nodes))
      this.processes.set(id, new NodeProcess({ id, ...node, cwd: options.cwd }, node.pid));
  }

  /** Takes over the nodes a state file records (their processes may be running). */
  static load(stateFile: string, options: LocalNodesOptions): LocalNodes {
    return new LocalNodes(readLocalState(stateFile), stateFile, options);
  }

  get ids(): string[] {
    return [...this.processes.keys()];
  }

  /** Adds a node (not started) to the set and the state file. */
  add(launch: Omit<NodeLaunch, 'cwd'>): void {
    if (this.processes.has(launch.id)) throw new RuntimeError(`node ${launch.id} is already in the set`);
    this.processes.set(launch.id, new NodeProcess({ ...launch, cwd: this.options.cwd }));
    const { id: _id, command, ...rest } = launch;
    this.state.nodes[launch.id] = { ...rest, command: [...command], pid: null };
  }

  node(id: string): NodeProcess {
    const node = this.processes.get(id);
    if (node === undefined)
      throw new RuntimeError(`unknown node ${JSON.stringify(id)} (nodes: ${this.ids.join(', ')})`);
    return node;
  }

  /** Starts every node and waits until each is up; on a failure kills them all and throws. */
  async startAll(): Promise<void> {
    try {
      for (const node of this.processes.values())
        node.start(this.options.outliveUs, this.options.ownProcessGroup);
      this.save();
      await Promise.all(
        [...this.processes.values()].map((node) => node.awaitUp(this.options.startTimeoutMs)),
      );
    } catch (error) {
      await this.killAll();
      throw error;
    }
  }

  /**
   * Starts one stopped node (same command, data and ports) and waits until it is up. `extraArgs`
   * are for this start only (e.g. the operator's --rejoin-after-data-loss after a lost disk).
   */
  async start(id: string, extraArgs: readonly string[] = []): Promise<void> {
    const node = this.node(id);
    node.start(this.options.outliveUs, this.options.ownProcessGroup, extraArgs);
    this.save();
    await node.awaitUp(this.options.startTimeoutMs);
  }

  async kill(id: string): Promise<void> {
    await this.node(id).kill();
    this.save();
  }

  async stop(id: string): Promise<'not running' | 'stopped' | 'killed'> {
    const how = await this.node(id).stop(this.options.stopGraceMs);
    this.save();
    return how;
  }

  async killAll(): Promise<void> {
    await Promise.all([...this.processes.values()].map((node) => node.kill()));
    this.save();
  }

  /** After a teardown the state file is removed: no later change may write it again. */
  stopSaving(): void {
    this.saving = false;
  }

  save(): void {
    if (!this.saving) return;
    for (const [id, node] of this.processes) {
      const recorded = this.state.nodes[id];
      if (recorded !== undefined) recorded.pid = node.pid ?? null;
    }
    writeLocalState(this.state, this.stateFile);
  }
}
