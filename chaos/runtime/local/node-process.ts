// One server process of the local runtime: spawn with its log appended to a file, signal it, and
// know when it has exited.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface NodeLaunch {
  command: string;
  args: string[];
  logFile: string;
  cwd: string;
  /** Added to the lab's own environment. */
  env?: Readonly<Record<string, string>>;
}

export class NodeProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitDescription: string | undefined;
  paused = false;

  constructor(
    readonly id: string,
    private readonly launch: NodeLaunch,
  ) {}

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitDescription === undefined;
  }

  /** How the last process ended ("exit code 1", "signal SIGKILL"), if it has. */
  get exitedWith(): string | undefined {
    return this.exitDescription;
  }

  start(): void {
    if (this.running) throw new Error(`node ${this.id} is already running (pid ${this.child?.pid})`);
    const logFd = openSync(this.launch.logFile, 'a');
    try {
      // Detached: its own process group, so a Ctrl-C at the terminal reaches only the lab, whose
      // teardown then stops the servers in order (and `lab down` finds them after a crash).
      const child = spawn(this.launch.command, this.launch.args, {
        cwd: this.launch.cwd,
        env: { ...process.env, ...this.launch.env },
        stdio: ['ignore', logFd, logFd],
        detached: true,
      });
      this.child = child;
      this.paused = false;
      this.exitDescription = undefined;
      this.exited = new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          this.exitDescription = signal !== null ? `signal ${signal}` : `exit code ${code ?? '?'}`;
          resolve();
        });
        child.once('error', (error) => {
          this.exitDescription = `failed to start: ${error.message}`;
          resolve();
        });
      });
    } finally {
      closeSync(logFd);
    }
  }

  signal(signal: NodeJS.Signals): void {
    const child = this.child;
    if (child === undefined || !this.running) return;
    try {
      child.kill(signal);
    } catch {
      // Already gone between the check and the signal: the exit event will settle it.
    }
  }

  /** SIGKILL and wait for the exit (a stopped process dies on SIGKILL too). */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
    this.paused = false;
  }

  /**
   * A power cut: SIGUSR2 (the server drops its unsynced writes and SIGKILLs itself), SIGCONT so a
   * paused one acts on it, SIGKILL after graceMs if it has not died (it then lost nothing).
   */
  async powerCut(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.signal('SIGUSR2');
    this.signal('SIGCONT');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.paused = false;
  }

  /** SIGTERM (and SIGCONT, so a paused process can act on it); SIGKILL after graceMs. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    this.signal('SIGCONT');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.paused = false;
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
