// The local runtime: `lab server` processes on 127.0.0.1, every directed peer link routed through a
// fault-injecting proxy (proxy.ts), so partitions and packet loss need neither root nor Docker.
// Node A's --cluster entry for B names the A->B proxy; A's own entry and every client port are real.
import { existsSync, mkdirSync, copyFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot, serverBin } from '../project.js';
import { assertKnown, checkedGrudge, checkedLoss, drops, noFaults, type FaultState } from '../faults.js';
import type { ClusterSpec, Grudge, NodeHandle, Runtime, RuntimeLogger } from '../types.js';
import { RuntimeError } from '../types.js';
import { checkSpec, requireStarted } from '../spec.js';
import { NodeProcess } from './node-process.js';
import { freePorts } from '../../../shared/free-ports.js';
import { LinkProxy, type LinkFaults } from './proxy.js';
import { LAB_RUN_ENV } from '../../../server/failpoints/failpoints.js';
import { CLOCK_FILE_ENV } from '../../../server/failpoints/clock.js';
import { LocalNodes } from './local-nodes.js';
import { removeLocalState, stateFile, type LocalRunState } from './state.js';
import { count } from '../../../checker/plural.js';

export interface LocalRuntimeOptions {
  /** The server command before its flags; default: this node binary, dist/cli/server-bin.js, `server`. */
  serverCommand?: readonly string[];
  /** Uniform [0, 1) source for packet loss (fork it from the run's seed); default Math.random. */
  random?: () => number;
  log?: RuntimeLogger;
  /** How long start() and restart() wait for client ports to accept. */
  startTimeoutMs?: number;
  /** stop(): SIGTERM, then SIGKILL after this long. */
  stopGraceMs?: number;
}

const START_TIMEOUT_MS_DEFAULT = 30_000;
const STOP_GRACE_MS_DEFAULT = 5_000;
const HOST = '127.0.0.1';

export class LocalRuntime implements Runtime {
  readonly name = 'local' as const;
  private spec: ClusterSpec | undefined;
  private nodes: LocalNodes | undefined;
  private readonly proxies: LinkProxy[] = [];
  private faults: FaultState = noFaults();
  private tearingDown: Promise<void> | undefined;

  constructor(private readonly options: LocalRuntimeOptions = {}) {}

  async start(spec: ClusterSpec): Promise<NodeHandle[]> {
    if (this.spec !== undefined) throw new RuntimeError('this runtime already started a cluster');
    checkSpec(spec);
    this.spec = spec;
    const command = this.options.serverCommand ?? [process.execPath, serverBin(), 'server'];
    if (this.options.serverCommand === undefined && !existsSync(serverBin())) {
      throw new RuntimeError(`${serverBin()} is missing: run \`npm run build\` first`);
    }
    try {
      await this.prepare(spec, command);
      // A teardown (Ctrl-C) that raced the preparation wins: spawn nothing.
      if (this.tearingDown !== undefined) throw new RuntimeError('the cluster was torn down while starting');
      this.log(`starting ${spec.nodes.length} local nodes (${spec.nodes.join(', ')}) on ${HOST}`);
      await this.requireNodes().startAll();
      return this.handles();
    } catch (error) {
      await this.teardown();
      await Promise.all(this.proxies.map((proxy) => proxy.close())); // any opened after a racing teardown
      throw error;
    }
  }

  /** Folders, ports, proxies and the state file, before any process runs. */
  private async prepare(spec: ClusterSpec, command: readonly string[]): Promise<void> {
    mkdirSync(spec.logDir, { recursive: true });
    // Data folders the runtime makes are its to remove; the log folder is the run's evidence and stays.
    const createdDirs: string[] = [];
    for (const dir of [spec.dataDir, ...spec.nodes.map((n) => join(spec.dataDir, n))]) {
      if (!existsSync(dir)) createdDirs.push(resolve(dir));
      mkdirSync(dir, { recursive: true });
    }
    // The state file goes first, so even a crash during start leaves `lab down` a trail.
    const state: LocalRunState = {
      kind: 'local',
      runId: spec.runId,
      ownerPid: process.pid,
      startedAt: new Date().toISOString(),
      logDir: resolve(spec.logDir),
      createdDirs,
      nodes: {},
    };
    this.nodes = new LocalNodes(state, stateFile(spec.runId), {
      startTimeoutMs: this.options.startTimeoutMs ?? START_TIMEOUT_MS_DEFAULT,
      stopGraceMs: this.options.stopGraceMs ?? STOP_GRACE_MS_DEFAULT,
      cwd: projectRoot(),
    });
    this.nodes.save();
    const ports = await freePorts(spec.nodes.length * 2);
    const addresses = new Map<string, { clientPort: number; peerPort: number }>();
    spec.nodes.forEach((id, i) =>
      addresses.set(id, { clientPort: ports[2 * i] ?? 0, peerPort: ports[2 * i + 1] ?? 0 }),
    );
    const proxyPorts = await this.startProxies(addresses);
    for (const [id, { clientPort, peerPort }] of addresses) {
      const dataDir = resolve(join(spec.dataDir, id));
      const args = ['--id', id, '--cluster', clusterFor(id, addresses, proxyPorts), '--data-dir', dataDir];
      this.nodes.add({
        id,
        command: [...command, ...args, ...spec.serverArgs],
        logFile: resolve(join(spec.logDir, `${id}.log`)),
        dataDir,
        clientPort,
        peerPort,
        // Test-only switches (power cuts, failpoints, the clock fault); the run id lets the server honour them.
        env: { ...spec.serverEnv, [LAB_RUN_ENV]: spec.runId, [CLOCK_FILE_ENV]: this.clockFile(id) },
      });
    }
  }

  private async startProxies(
    addresses: ReadonlyMap<string, { peerPort: number }>,
  ): Promise<Map<string, number>> {
    const ports = new Map<string, number>();
    const random = this.options.random ?? Math.random;
    for (const from of addresses.keys()) {
      for (const [to, { peerPort }] of addresses) {
        if (from === to) continue;
        const proxy = new LinkProxy({ from, to, targetHost: HOST, targetPort: peerPort, random });
        this.proxies.push(proxy);
        ports.set(`${from}->${to}`, await proxy.listen());
      }
    }
    return ports;
  }

  private handles(): NodeHandle[] {
    return this.requireNodes().ids.map((id) => ({
      id,
      clientEndpoint: `${HOST}:${this.node(id).launch.clientPort}`,
    }));
  }

  async kill(id: string): Promise<void> {
    this.node(id);
    await this.requireNodes().kill(id);
  }

  async powerCut(id: string): Promise<void> {
    this.node(id);
    await this.requireNodes().powerCut(id);
  }

  async isRunning(id: string): Promise<boolean> {
    return Promise.resolve(this.node(id).running);
  }

  /** Written whole and renamed, so the server never reads half a setting. */
  async setClock(id: string, setting: { rate: number; offsetMs: number }): Promise<void> {
    this.node(id);
    const file = this.clockFile(id);
    writeFileSync(`${file}.tmp`, JSON.stringify(setting));
    renameSync(`${file}.tmp`, file);
    return Promise.resolve();
  }

  private clockFile(id: string): string {
    return resolve(join(this.requireSpec().dataDir, `${id}.clock.json`));
  }

  async restart(id: string): Promise<void> {
    this.node(id);
    await this.requireNodes().kill(id);
    // A teardown (Ctrl-C) that came in meanwhile has already killed everything: start nothing new.
    if (this.tearingDown !== undefined)
      throw new RuntimeError(`not restarting ${id}: the cluster is torn down`);
    // Proxies never went away, so the faults in force already apply to the new process.
    await this.requireNodes().start(id);
  }

  async stop(id: string): Promise<void> {
    this.node(id);
    await this.requireNodes().stop(id);
  }

  async pause(id: string): Promise<void> {
    const node = this.node(id);
    if (!node.running) throw new RuntimeError(`cannot pause node ${id}: it is not running`);
    node.signal('SIGSTOP');
    node.paused = true;
    return Promise.resolve();
  }

  async resume(id: string): Promise<void> {
    const node = this.node(id);
    node.signal('SIGCONT');
    node.paused = false;
    return Promise.resolve();
  }

  async partition(grudge: Grudge): Promise<void> {
    this.faults.grudge = checkedGrudge(grudge, this.requireSpec().nodes);
    this.applyFaults();
    return Promise.resolve();
  }

  async packetLoss(nodes: readonly string[], probability: number): Promise<void> {
    this.faults.lossNodes = checkedLoss(nodes, probability, this.requireSpec().nodes);
    this.faults.lossProbability = probability;
    this.applyFaults();
    return Promise.resolve();
  }

  async heal(): Promise<void> {
    this.faults = noFaults();
    this.applyFaults();
    return Promise.resolve();
  }

  /** Faults of the A->B proxy: forward held if B drops A, reverse held if A drops B. */
  private linkFaults(from: string, to: string): LinkFaults {
    const { grudge, lossNodes, lossProbability } = this.faults;
    const lossy = lossNodes.has(from) || lossNodes.has(to);
    return {
      forwardBlocked: drops(grudge, to, from),
      reverseBlocked: drops(grudge, from, to),
      lossProbability: lossy ? lossProbability : 0,
    };
  }

  private applyFaults(): void {
    for (const proxy of this.proxies) {
      const [from = '', to = ''] = proxy.name.split('->');
      proxy.setFaults(this.linkFaults(from, to));
    }
  }

  async collectLogs(destDir: string): Promise<Record<string, string>> {
    const spec = this.requireSpec();
    mkdirSync(destDir, { recursive: true });
    const written: Record<string, string> = {};
    for (const id of spec.nodes) {
      const source = resolve(join(spec.logDir, `${id}.log`));
      const target = resolve(join(destDir, `${id}.log`));
      if (!existsSync(source)) continue;
      if (source !== target) copyFileSync(source, target);
      written[id] = target;
    }
    return Promise.resolve(written);
  }

  teardown(): Promise<void> {
    this.tearingDown ??= this.removeEverything();
    return this.tearingDown;
  }

  private async removeEverything(): Promise<void> {
    const nodes = this.nodes;
    nodes?.stopSaving();
    await nodes?.killAll();
    await Promise.all(this.proxies.map((proxy) => proxy.close()));
    for (const dir of nodes?.state.createdDirs ?? []) rmSync(dir, { recursive: true, force: true });
    if (this.spec !== undefined) removeLocalState(this.spec.runId);
    if (nodes !== undefined && nodes.ids.length > 0)
      this.log(
        `stopped ${count(nodes.ids.length, 'node')} and ${count(this.proxies.length, 'proxy', 'proxies')}`,
      );
  }

  /** The node, or a RuntimeError naming an id outside the spec or a call before start(). */
  private node(id: string): NodeProcess {
    assertKnown(id, new Set(requireStarted(this.spec).nodes));
    return this.requireNodes().node(id);
  }

  private requireNodes(): LocalNodes {
    requireStarted(this.spec);
    if (this.nodes === undefined) throw new RuntimeError('the cluster has not started');
    return this.nodes;
  }

  private requireSpec(): ClusterSpec {
    return requireStarted(this.spec);
  }

  private log(message: string): void {
    this.options.log?.(message);
  }
}

/** Node `self`'s view of the cluster: its own real ports, every peer's peer port replaced by a proxy. */
function clusterFor(
  self: string,
  addresses: ReadonlyMap<string, { clientPort: number; peerPort: number }>,
  proxyPorts: ReadonlyMap<string, number>,
): string {
  return [...addresses]
    .map(([id, { clientPort, peerPort }]) => {
      const port = id === self ? peerPort : proxyPorts.get(`${self}->${id}`);
      return `${id}=${HOST}:${clientPort}/${port}`;
    })
    .join(',');
}
