// One local server process: spawn it with its log appended to a file, signal it, wait for it to
// exit, and tell whether it is up. It works by pid, so the same code controls a node this process
// spawned and one recorded in a state file by another (`lab cluster stop --node n2`).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { processAlive, processExists, processListensOn, processMatches } from '../process-alive.js';
import { RuntimeError } from '../types.js';
import { portAccepts } from '../wait.js';

export interface NodeLaunch {
  id: string;
  /** The whole command line: executable, then arguments. */
  command: readonly string[];
  logFile: string;
  /** On the command line, so a recorded pid that the system reused is never taken for this node. */
  dataDir: string;
  clientPort: number;
  peerPort: number;
  cwd?: string;
}

const HOST = '127.0.0.1';
const POLL_MS = 20;
const REAP_WAIT_MS = 5000;

export class NodeProcess {
  private child: ChildProcess | undefined;
  private currentPid: number | undefined;
  private exitDescription: string | undefined;
  paused = false;

  /** `pid`: a process started earlier (by another lab process) to take over. */
  constructor(
    readonly launch: NodeLaunch,
    pid?: number | null,
  ) {
    if (pid !== undefined && pid !== null && processMatches(pid, launch.dataDir)) this.currentPid = pid;
  }

  get id(): string {
    return this.launch.id;
  }

  get pid(): number | undefined {
    return this.running ? this.currentPid : undefined;
  }

  get running(): boolean {
    if (this.currentPid === undefined || this.exitDescription !== undefined) return false;
    // A child of ours reports its exit; a taken-over process is watched through its pid.
    return this.child !== undefined || processMatches(this.currentPid, this.launch.dataDir);
  }

  /** How the last process ended ("exit code 1", "signal SIGKILL"), if it has and we saw it. */
  get exitedWith(): string | undefined {
    return this.exitDescription;
  }

  /**
   * Spawns the node. `outliveUs`: nothing of it keeps this process alive (`lab cluster start`).
   * `ownGroup`: its own process group, so a Ctrl-C at the terminal reaches only us (the lab, whose
   * teardown then stops the servers in order, and `lab down` finds them after a crash); without it
   * (the server tests) a Ctrl-C of the test runner stops the servers too.
   */
  start(outliveUs = false, ownGroup = true, extraArgs: readonly string[] = []): void {
    if (this.running) throw new RuntimeError(`node ${this.id} is already running (pid ${this.currentPid})`);
    const logFd = openSync(this.launch.logFile, 'a');
    try {
      const [command = process.execPath, ...args] = this.launch.command;
      const child = spawn(command, [...args, ...extraArgs], {
        cwd: this.launch.cwd,
        stdio: ['ignore', logFd, logFd],
        detached: ownGroup || outliveUs,
      });
      this.child = child;
      this.currentPid = child.pid;
      this.paused = false;
      this.exitDescription = child.pid === undefined ? 'failed to start' : undefined;
      child.once('exit', (code, signal) => {
        if (this.child === child)
          this.exitDescription = signal !== null ? `signal ${signal}` : `exit code ${code ?? '?'}`;
      });
      child.once('error', (error) => {
        if (this.child === child) this.exitDescription = `failed to start: ${error.message}`;
      });
      if (outliveUs) child.unref();
    } finally {
      closeSync(logFd);
    }
  }

  signal(signal: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone between the check and the signal.
    }
  }

  /** SIGKILL and wait for the exit (a stopped process dies on SIGKILL too). */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited();
    this.paused = false;
  }

  /** SIGTERM (and SIGCONT, so a paused process can act on it); SIGKILL after graceMs. Returns how it ended. */
  async stop(graceMs: number): Promise<'not running' | 'stopped' | 'killed'> {
    if (!this.running) return 'not running';
    this.signal('SIGTERM');
    this.signal('SIGCONT');
    const deadline = Date.now() + graceMs;
    while (this.running && Date.now() < deadline) await delay(POLL_MS);
    const how = this.running ? 'killed' : 'stopped';
    await this.kill();
    return how;
  }

  /** Resolves once the process is gone (polled by pid: it need not be our child). */
  private async exited(): Promise<void> {
    const pid = this.currentPid;
    while (pid !== undefined && this.exitDescription === undefined && processAlive(pid)) await delay(POLL_MS);
    // Dead, but not our child: give its parent a moment to reap it, so that when this returns the
    // pid is gone for every observer; a parent that never reaps must not hang us.
    const reapDeadline = Date.now() + REAP_WAIT_MS;
    while (pid !== undefined && this.child === undefined && processExists(pid) && Date.now() < reapDeadline)
      await delay(POLL_MS);
    this.currentPid = undefined;
  }

  /**
   * Up: the process is alive and it is the one listening on both its ports. Where /proc cannot
   * tell, the client port accepting has to do.
   */
  async isUp(): Promise<boolean> {
    const pid = this.pid;
    if (pid === undefined) return false;
    const listens = processListensOn(pid, [this.launch.clientPort, this.launch.peerPort]);
    return listens ?? (await portAccepts(HOST, this.launch.clientPort));
  }

  /** Waits until isUp(); throws naming the node and its ports when it exits or time runs out. */
  async awaitUp(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const ports = `client port ${this.launch.clientPort}, peer port ${this.launch.peerPort}`;
    for (;;) {
      if (await this.isUp()) return;
      if (!this.running)
        throw new RuntimeError(
          `node ${this.id} (${ports}) exited while starting (${this.exitDescription ?? 'gone'}); its log ${this.launch.logFile} ends:\n${this.logTail()}`,
        );
      if (Date.now() >= deadline)
        throw new RuntimeError(
          `node ${this.id} is not listening on ${HOST} (${ports}) after ${timeoutMs} ms; see ${this.launch.logFile}`,
        );
      await delay(POLL_MS * 2);
    }
  }

  /** The last lines of the log, for error messages when a node fails to come up. */
  logTail(lines = 15): string {
    try {
      return readFileSync(this.launch.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}
