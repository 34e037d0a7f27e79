// The Docker runtime: one container per node on a user-defined network of the run's own, data on
// named volumes, client ports published on 127.0.0.1, partitions and packet loss as iptables rules
// in each container's RAFTLAB chain (rules.ts). Everything carries the run's labels (labels.ts).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type Docker from 'dockerode';
import { checkedGrudge, checkedLoss, noFaults, type FaultState } from '../faults.js';
import type { ClusterSpec, Grudge, NodeHandle, Runtime, RuntimeLogger } from '../types.js';
import { RuntimeError } from '../types.js';
import { checkSpec, lookupNode, requireStarted } from '../spec.js';
import { waitForServing } from '../wait.js';
import { freePorts } from '../../../shared/free-ports.js';
import { connectEngine, execIn, statusCode } from './engine.js';
import { LABEL_LOG_DIR, LABEL_NODE, runLabels } from './labels.js';
import { demuxBuffer, writeContainerLog } from './logs.js';
import { createRunNetwork } from './network.js';
import { countByKind, removeRun } from './remove.js';
import { APPLY_SCRIPT, chainRules } from './rules.js';
import { ensureServerImage } from './server-image.js';
import { LAB_RUN_ENV } from '../../../server/failpoints/failpoints.js';
import { CLOCK_FILE_ENV } from '../../../server/failpoints/clock.js';

/** On the node's volume, so a restarted container keeps the clock fault in force. */
const DOCKER_CLOCK_FILE = '/data/clock-fault.json';

export interface DockerRuntimeOptions {
  docker?: Docker;
  log?: RuntimeLogger;
  /** Image to run instead of building raftlab-server (tests). */
  image?: string;
  /** The command in the container before the node's flags; default node /app/dist/cli/server-bin.js server. */
  containerCommand?: readonly string[];
  startTimeoutMs?: number;
  stopGraceSeconds?: number;
}

export const CLIENT_PORT = 7000;
export const PEER_PORT = 7001;
const START_TIMEOUT_MS_DEFAULT = 60_000;
// The server-only entry: same flags as `lab server`, a fraction of the start-up time.
const DEFAULT_COMMAND = ['node', '/app/dist/cli/server-bin.js', 'server'];

interface DockerNode {
  id: string;
  address: string;
  hostPort: number;
  container: Docker.Container;
  paused: boolean;
  running: boolean;
}

export class DockerRuntime implements Runtime {
  readonly name = 'docker' as const;
  private readonly docker: Docker;
  private spec: ClusterSpec | undefined;
  private readonly nodes = new Map<string, DockerNode>();
  private addresses = new Map<string, string>();
  private faults: FaultState = noFaults();
  private tearingDown: Promise<void> | undefined;
  private creating: Promise<void> | undefined;

  constructor(private readonly options: DockerRuntimeOptions = {}) {
    this.docker = options.docker ?? connectEngine();
  }

  async start(spec: ClusterSpec): Promise<NodeHandle[]> {
    if (this.spec !== undefined) throw new RuntimeError('this runtime already started a cluster');
    checkSpec(spec);
    this.spec = spec;
    try {
      const image = this.options.image ?? (await ensureServerImage(this.docker, (m) => this.log(m)));
      this.abortIfTornDown();
      // Objects are created under a guard that teardown() waits for, so a Ctrl-C in the middle
      // cannot race a create request still in flight and leave its object behind.
      this.creating = this.createObjects(spec, image);
      await this.creating;
      this.abortIfTornDown();
      await Promise.all(spec.nodes.map((id) => this.startNode(this.node(id))));
      return spec.nodes.map((id) => ({
        id,
        clientEndpoint: `127.0.0.1:${this.node(id).hostPort}`,
        advertisedClientAddress: `${this.addresses.get(id) ?? ''}:${CLIENT_PORT}`,
      }));
    } catch (error) {
      await this.teardown();
      // A teardown that raced start() may have run before the last object was created: sweep again.
      await removeRun(this.docker, spec.runId);
      throw error;
    }
  }

  private async createObjects(spec: ClusterSpec, image: string): Promise<void> {
    const network = await createRunNetwork(this.docker, spec.runId, runLabels(spec.runId));
    this.log(
      `network ${network.name} (${network.subnet}); starting ${spec.nodes.length} containers from ${image}`,
    );
    spec.nodes.forEach((id, i) => this.addresses.set(id, network.address(i)));
    const hostPorts = await freePorts(spec.nodes.length);
    this.abortIfTornDown();
    const created = performance.now();
    // allSettled: on a failure, no create may still be in flight when teardown sweeps.
    const results = await Promise.allSettled(
      spec.nodes.map((id, i) => this.createNode(id, image, network.name, hostPorts[i] ?? 0)),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    this.log(`created ${spec.nodes.length} containers and volumes in ${msSince(created)} ms`);
  }

  private abortIfTornDown(): void {
    if (this.tearingDown !== undefined) throw new RuntimeError('the cluster was torn down while starting');
  }

  private async createNode(id: string, image: string, network: string, hostPort: number): Promise<void> {
    const spec = this.requireSpec();
    const labels = { ...runLabels(spec.runId), [LABEL_NODE]: id };
    const containerLabels = { ...labels, [LABEL_LOG_DIR]: resolve(spec.logDir) };
    const volume = `raftlab-${spec.runId}-${id}`;
    await this.docker.createVolume({ Name: volume, Labels: labels });
    const address = this.addresses.get(id) ?? '';
    const container = await this.docker.createContainer({
      name: `raftlab-${spec.runId}-${id}`,
      Hostname: id,
      Image: image,
      Labels: containerLabels,
      // Test-only switches (power cuts, failpoints); the run id is what lets the server honour them.
      Env: Object.entries({
        ...spec.serverEnv,
        [LAB_RUN_ENV]: spec.runId,
        [CLOCK_FILE_ENV]: DOCKER_CLOCK_FILE,
      }).map(([k, v]) => `${k}=${v}`),
      Cmd: containerCommand(
        this.options.containerCommand ?? DEFAULT_COMMAND,
        id,
        this.clusterSpec(),
        spec.serverArgs,
      ),
      ExposedPorts: { [`${CLIENT_PORT}/tcp`]: {} },
      HostConfig: {
        Init: true,
        CapAdd: ['NET_ADMIN'],
        Mounts: [{ Type: 'volume', Source: volume, Target: '/data' }],
        // Fixed host ports: a restarted container must come back on the port the clients know.
        PortBindings: { [`${CLIENT_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] },
        Tmpfs: { '/run/raftlab': 'rw,size=64k' },
        NetworkMode: network,
      },
      NetworkingConfig: { EndpointsConfig: { [network]: { IPAMConfig: { IPv4Address: address } } } },
    });
    this.nodes.set(id, { id, address, hostPort, container, paused: false, running: false });
  }

  private clusterSpec(): string {
    return [...this.addresses].map(([id, ip]) => `${id}=${ip}:${CLIENT_PORT}/${PEER_PORT}`).join(',');
  }

  /** Start the container, install its rules (the entrypoint waits for them), wait for its client port. */
  private async startNode(node: DockerNode): Promise<void> {
    const started = performance.now();
    await node.container.start();
    node.running = true;
    node.paused = false;
    const running = msSince(started);
    await this.applyRules(node);
    const ruled = msSince(started);
    // The published port accepts as soon as the container runs (docker-proxy); waitForServing also
    // checks that the connection then stays open, i.e. the server behind it is listening.
    await waitForServing(
      '127.0.0.1',
      node.hostPort,
      `node ${node.id} (container ${node.container.id.slice(0, 12)})`,
      {
        timeoutMs: this.options.startTimeoutMs ?? START_TIMEOUT_MS_DEFAULT,
        intervalMs: 100,
      },
    ).catch(async (error: unknown) => {
      throw new RuntimeError(`${(error as Error).message}; its log ends:\n${await this.logTail(node)}`);
    });
    this.log(
      `node ${node.id}: running after ${running} ms, rules in at ${ruled} ms, serving at ${msSince(started)} ms`,
    );
  }

  private async applyRules(node: DockerNode): Promise<void> {
    const rules = chainRules(node.id, this.faults, this.addresses);
    const result = await execIn(node.container, ['/bin/sh', '-c', APPLY_SCRIPT], [`RULES=${rules}`]);
    if (result.exitCode !== 0) {
      throw new RuntimeError(
        `iptables in node ${node.id} failed (exit ${result.exitCode}): ${result.output.trim()}`,
      );
    }
  }

  /** Re-apply every running node's chain; paused and stopped nodes get theirs on resume/restart. */
  private async applyAllRules(): Promise<void> {
    const live = [...this.nodes.values()].filter((n) => n.running && !n.paused);
    await Promise.all(live.map((n) => this.applyRules(n)));
  }

  async kill(id: string): Promise<void> {
    const node = this.node(id);
    if (node.paused) await this.resumeContainer(node); // docker refuses to kill a paused container
    await ignoreNotRunning(node.container.kill({ signal: 'SIGKILL' }));
    await node.container.wait({ condition: 'not-running' }).catch(() => undefined);
    node.running = false;
  }

  /** SIGUSR2 to the server (it drops unsynced writes and dies); see Runtime.powerCut. */
  async powerCut(id: string): Promise<void> {
    const node = this.node(id);
    if (node.paused) await this.resumeContainer(node);
    await ignoreNotRunning(node.container.kill({ signal: 'SIGUSR2' }));
    await node.container.wait({ condition: 'not-running' }).catch(() => undefined);
    node.running = false;
  }

  async isRunning(id: string): Promise<boolean> {
    const info = await this.node(id).container.inspect();
    return info.State.Running === true;
  }

  /** Writes the setting into the container (see Runtime.setClock); untested without an engine. */
  async setClock(id: string, setting: { rate: number; offsetMs: number }): Promise<void> {
    const node = this.node(id);
    const script = `printf '%s' "$1" > ${DOCKER_CLOCK_FILE}.tmp && mv ${DOCKER_CLOCK_FILE}.tmp ${DOCKER_CLOCK_FILE}`;
    const result = await execIn(node.container, ['sh', '-c', script, 'clock', JSON.stringify(setting)]);
    if (result.exitCode !== 0) throw new RuntimeError(`setClock ${id}: ${result.output}`);
  }

  async restart(id: string): Promise<void> {
    const node = this.node(id);
    if (node.running) await this.kill(id);
    // After a teardown (Ctrl-C) the container is gone: say so rather than fail on a 404.
    if (this.tearingDown !== undefined)
      throw new RuntimeError(`not restarting ${id}: the cluster is torn down`);
    await this.startNode(node);
  }

  async stop(id: string): Promise<void> {
    const node = this.node(id);
    if (node.paused) await this.resumeContainer(node);
    await ignoreNotRunning(node.container.stop({ t: this.options.stopGraceSeconds ?? 5 }));
    node.running = false;
  }

  async pause(id: string): Promise<void> {
    const node = this.node(id);
    if (!node.running) throw new RuntimeError(`cannot pause node ${id}: it is not running`);
    if (node.paused) return;
    await node.container.pause();
    node.paused = true;
  }

  async resume(id: string): Promise<void> {
    const node = this.node(id);
    if (!node.paused) return;
    await this.resumeContainer(node);
    // Faults may have changed while it was frozen (docker cannot exec into a paused container).
    await this.applyRules(node);
  }

  private async resumeContainer(node: DockerNode): Promise<void> {
    await node.container.unpause().catch((error: unknown) => {
      if (statusCode(error) !== 409) throw error; // 409: it was not paused
    });
    node.paused = false;
  }

  async partition(grudge: Grudge): Promise<void> {
    this.faults.grudge = checkedGrudge(grudge, this.requireSpec().nodes);
    await this.applyAllRules();
  }

  async packetLoss(nodes: readonly string[], probability: number): Promise<void> {
    this.faults.lossNodes = checkedLoss(nodes, probability, this.requireSpec().nodes);
    this.faults.lossProbability = probability;
    await this.applyAllRules();
  }

  async heal(): Promise<void> {
    this.faults = noFaults();
    await this.applyAllRules();
  }

  async collectLogs(destDir: string): Promise<Record<string, string>> {
    mkdirSync(destDir, { recursive: true });
    const written: Record<string, string> = {};
    for (const node of this.nodes.values()) {
      const file = resolve(join(destDir, `${node.id}.log`));
      await writeContainerLog(node.container, file);
      written[node.id] = file;
    }
    return written;
  }

  private async logTail(node: DockerNode, lines = 15): Promise<string> {
    try {
      const raw = (await node.container.logs({
        stdout: true,
        stderr: true,
        follow: false,
        tail: lines,
      })) as unknown;
      return Buffer.isBuffer(raw) ? demuxBuffer(raw).toString().trimEnd() : '(no log)';
    } catch (error) {
      return `(log unavailable: ${(error as Error).message})`;
    }
  }

  teardown(): Promise<void> {
    this.tearingDown ??= this.spec === undefined ? Promise.resolve() : this.removeEverything(this.spec.runId);
    return this.tearingDown;
  }

  private async removeEverything(runId: string): Promise<void> {
    await this.creating?.catch(() => undefined);
    const removed = await removeRun(this.docker, runId);
    if (removed.length > 0) this.log(`removed ${countByKind(removed)} of run ${runId}`);
  }

  private node(id: string): DockerNode {
    return lookupNode(this.spec, this.nodes, id);
  }

  private requireSpec(): ClusterSpec {
    return requireStarted(this.spec);
  }

  private log(message: string): void {
    this.options.log?.(message);
  }
}

async function ignoreNotRunning(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (error) {
    // 304: already stopped; 409: not running.
    if (statusCode(error) !== 304 && statusCode(error) !== 409) throw error;
  }
}

function msSince(start: number): number {
  return Math.round(performance.now() - start);
}

/** A node container's command: the server with its identity, then the lab's server flags as the local runtime passes them. */
export function containerCommand(
  command: readonly string[],
  id: string,
  cluster: string,
  serverArgs: readonly string[],
): string[] {
  return [...command, '--id', id, '--cluster', cluster, '--data-dir', '/data', ...serverArgs];
}
