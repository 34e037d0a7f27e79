// The run's trace: one line per event, prefixed with simulated time. Off in sweeps (it costs time);
// a failing seed is re-run with it on, which is exact because the run is a function of the seed.
import { NS_PER_MS } from './config.js';

export class Trace {
  readonly lines: string[] = [];

  constructor(readonly enabled: boolean) {}

  /** `text` is a thunk so a disabled trace does not even build the string. */
  add(timeNs: number, text: () => string): void {
    if (!this.enabled) return;
    this.lines.push(`${formatTime(timeNs)} ${text()}`);
  }

  /** Always recorded (cheap, rare events such as the first violation). */
  note(timeNs: number, text: string): void {
    if (this.enabled) this.lines.push(`${formatTime(timeNs)} ${text}`);
  }

  text(): string {
    return this.lines.join('\n') + (this.lines.length > 0 ? '\n' : '');
  }
}

export function formatTime(timeNs: number): string {
  return `${(timeNs / NS_PER_MS).toFixed(3).padStart(10)}ms`;
}
