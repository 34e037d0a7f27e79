// Shared by the runtime tests: the stand-in server command, a one-line client for it, and polling.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { NodeHandle } from '../types.js';

export function standInCommand(): string[] {
  return [process.execPath, join(import.meta.dirname, 'stand-in.mjs')];
}

/** Sends one line to host:port and resolves the first line back (rejects after timeoutMs). */
export function ask(endpoint: string, line: string, timeoutMs = 1000): Promise<string> {
  const [host = '127.0.0.1', port = '0'] = endpoint.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port) });
    let text = '';
    const timer = setTimeout(
      () => finish(new Error(`no answer from ${endpoint} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    function finish(result: string | Error): void {
      clearTimeout(timer);
      socket.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    }
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${line}\n`));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) finish(text.slice(0, text.indexOf('\n')));
    });
    socket.on('error', (error) => finish(error));
  });
}

export interface StandInStatus {
  id: string;
  heardMsAgo: Record<string, number>;
  ackedMsAgo: Record<string, number>;
}

export async function status(endpoint: string): Promise<StandInStatus> {
  return JSON.parse(await ask(endpoint, 'status')) as StandInStatus;
}

/** Polls `condition` until it holds or timeoutMs passes; returns whether it held. */
export async function eventually(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return true;
    } catch {
      // Not yet (e.g. the node is still starting).
    }
    if (Date.now() >= deadline) return false;
    await delay(100);
  }
}

/** Spawns drive.ts and resolves once it printed READY (with the node handles). */
export function spawnDriver(
  kind: 'local' | 'docker',
  runId: string,
  baseDir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; handles: { id: string; clientEndpoint: string }[] }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'drive.ts'), kind, runId, baseDir],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /READY (.*)\n/.exec(out);
      if (match?.[1] !== undefined)
        resolve({ child, handles: JSON.parse(match[1]) as { id: string; clientEndpoint: string }[] });
    });
    child.once('exit', (code) => reject(new Error(`driver exited (${code}) before READY: ${err}`)));
  });
}

/** Resolves with stdout once the child exits. */
export function collectUntilExit(child: ChildProcess): Promise<{ code: number | null; stdout: string }> {
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout })));
}

/** A link carried traffic this recently: fresh. Not for this long: stale (cut). */
export const FRESH_MS = 300;
export const STALE_MS = 700;

/** Every node heard from and was acked by every peer within FRESH_MS. */
export async function allFresh(handles: readonly NodeHandle[]): Promise<boolean> {
  for (const h of handles) {
    const s = await status(h.clientEndpoint);
    const peers = handles.filter((p) => p.id !== h.id).map((p) => p.id);
    const fresh = (ago: Record<string, number>, p: string): boolean => (ago[p] ?? Infinity) < FRESH_MS;
    if (!peers.every((p) => fresh(s.heardMsAgo, p) && fresh(s.ackedMsAgo, p))) return false;
  }
  return true;
}

export function endpoint(handles: readonly NodeHandle[], id: string): string {
  return handles.find((h) => h.id === id)?.clientEndpoint ?? '';
}

export function sleepMs(ms: number): Promise<void> {
  return delay(ms);
}
