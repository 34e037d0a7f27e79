// Process liveness and identity checks used by teardown and `lab down` (never kill a reused pid).
import { readFileSync } from 'node:fs';

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** A killed process nobody has reaped yet still answers kill(pid, 0); it is dead all the same. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** The process's command line (Linux /proc), or undefined when it is gone or unreadable. */
export function processCommandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** True if pid is alive and its command line contains `marker` (e.g. the node's data directory). */
export function processMatches(pid: number, marker: string): boolean {
  if (!processAlive(pid)) return false;
  const commandLine = processCommandLine(pid);
  // Without /proc (not Linux) liveness is all we can check.
  return commandLine === undefined ? true : commandLine.includes(marker);
}
