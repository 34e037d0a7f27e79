// Polling helpers for "is the node up yet": a client port accepts TCP once the server listens.
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves true when host:port accepts a TCP connection within connectTimeoutMs. */
export function portAccepts(host: string, port: number, connectTimeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => finish(false), connectTimeoutMs);
    function finish(ok: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    }
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * Resolves true when host:port accepts and the connection is still open holdMs later. A forwarder
 * (docker-proxy) accepts at once and then closes when nothing listens behind it; a server does not.
 */
export function portServes(host: string, port: number, holdMs = 250): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let timer: NodeJS.Timeout | undefined = setTimeout(() => finish(false), 1000 + holdMs);
    function finish(ok: boolean): void {
      clearTimeout(timer);
      timer = undefined;
      socket.destroy();
      resolve(ok);
    }
    socket.once('connect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(true), holdMs);
    });
    socket.once('end', () => finish(false));
    socket.once('close', () => finish(false));
    socket.once('error', () => finish(false));
  });
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Called between attempts; throwing stops the wait (e.g. the process already exited). */
  check?: () => void;
}

/** Polls until host:port accepts and keeps the connection open (see portServes). */
export function waitForServing(
  host: string,
  port: number,
  what: string,
  options: WaitOptions,
): Promise<void> {
  return waitUntil(() => portServes(host, port), host, port, what, options);
}

async function waitUntil(
  probe: () => Promise<boolean>,
  host: string,
  port: number,
  what: string,
  options: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.check?.();
    if (await probe()) return;
    if (Date.now() >= deadline) {
      throw new Error(`${what}: ${host}:${port} did not accept connections within ${options.timeoutMs} ms`);
    }
    await delay(options.intervalMs ?? 50);
  }
}
