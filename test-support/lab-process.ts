// Runs `node bin/lab.js ...` as a real process with its stdout on an OS pipe, and reads stdout
// and stderr to the end: output lost at exit shows up here as it does for `lab ... | program`.
// (Node's own 'pipe' stdio is a socket pair with a far larger buffer, which hides such losses, so
// the lab's stdout goes through `| cat` in bash, which also reports the lab's own exit status.)
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const LAB_BINARY = join(import.meta.dirname, '..', 'bin', 'lab.js');

export interface LabProcessResult {
  status: number | null;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  elapsedMs: number;
}

export function labPiped(args: readonly string[], timeoutMs = 60_000): Promise<LabProcessResult> {
  const started = performance.now();
  const script = '"$0" "$@" | cat; exit "${PIPESTATUS[0]}"';
  const child = spawn('bash', ['-c', script, process.execPath, LAB_BINARY, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close' (not 'exit') waits for both pipes to reach their end.
    child.once('close', (status) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      resolve({
        status,
        stdout: stdout.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes: stdout.length,
        elapsedMs: performance.now() - started,
      });
    });
  });
}
