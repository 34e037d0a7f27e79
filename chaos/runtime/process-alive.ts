// Process liveness and identity checks used by teardown and `lab down` (never kill a reused pid).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** The pid exists at all, a zombie included (what kill(pid, 0) tells anyone who asks). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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

/**
 * Whether process `pid` itself holds a listening TCP socket on every one of `ports` (Linux: the
 * socket inodes of /proc/net/tcp{,6} in LISTEN state, matched against the process's open files).
 * A port that accepts is not enough: another program may hold it while our server died on
 * EADDRINUSE. Undefined where /proc cannot tell (not Linux): the caller falls back to connecting.
 */
export function processListensOn(pid: number, ports: readonly number[]): boolean | undefined {
  const listening = listeningInodes();
  if (listening === undefined) return undefined;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  const owned = new Set<string>();
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('socket:[')) owned.add(target.slice(8, -1));
    } catch {
      // Closed between the listing and the read.
    }
  }
  return ports.every((port) => (listening.get(port) ?? []).some((inode) => owned.has(inode)));
}

/** Port -> inodes of the sockets listening on it, or undefined without /proc/net/tcp. */
function listeningInodes(): Map<number, string[]> | undefined {
  const byPort = new Map<number, string[]>();
  let found = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    found = true;
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; st 0A is LISTEN; the inode is the tenth field.
      if (fields.length < 10 || fields[3] !== '0A') continue;
      const port = parseInt(fields[1]?.split(':')[1] ?? '', 16);
      const inodes = byPort.get(port) ?? [];
      inodes.push(fields[9] ?? '');
      byPort.set(port, inodes);
    }
  }
  return found ? byPort : undefined;
}
