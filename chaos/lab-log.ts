// Everything the lab prints goes to stderr and, with a timestamp, into the run's lab.log. On a
// terminal a one-line status (the live progress) stays at the bottom, redrawn after each message.
import { closeSync, openSync, writeSync } from 'node:fs';

export interface LabLogOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class LabLog {
  private fd: number | undefined;
  private pending: string[] = [];
  private status = '';

  constructor(private readonly out: LabLogOutput = process.stderr) {}

  get isTTY(): boolean {
    return this.out.isTTY === true;
  }

  /** Starts writing lab.log; lines said before are written first. */
  attach(path: string): void {
    this.detach();
    this.fd = openSync(path, 'a');
    for (const line of this.pending) writeSync(this.fd, line);
    this.pending = [];
  }

  detach(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Printed and logged. */
  say(message: string): void {
    this.clearStatus();
    this.out.write(`${message}\n`);
    this.redrawStatus();
    this.note(message);
  }

  /** Logged only (details a person reads afterwards). */
  note(message: string): void {
    const line = message
      .split('\n')
      .map((part) => `${new Date().toISOString()} ${part}\n`)
      .join('');
    if (this.fd === undefined) this.pending.push(line);
    else writeSync(this.fd, line);
  }

  /** The live status line (terminals only; elsewhere use say() at intervals). */
  setStatus(line: string): void {
    if (!this.isTTY) return;
    this.clearStatus();
    this.status = line;
    this.redrawStatus();
  }

  clearStatus(): void {
    if (this.isTTY && this.status !== '') this.out.write('\r\x1b[K');
  }

  endStatus(): void {
    this.clearStatus();
    this.status = '';
  }

  private redrawStatus(): void {
    if (this.isTTY && this.status !== '')
      this.out.write(this.status.slice(0, (process.stderr.columns ?? 120) - 1));
  }
}
