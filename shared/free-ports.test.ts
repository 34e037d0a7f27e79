import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { candidateRange, freePorts } from './free-ports.js';

function ephemeral(): [number, number] {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
  return [Number(low), Number(high)];
}

describe('freePorts', () => {
  it('chooses from below the ephemeral range, or above it when below is too small', () => {
    expect(candidateRange([32_768, 60_999])).toEqual([10_000, 32_767]);
    expect(candidateRange([10_500, 60_000])).toEqual([60_001, 65_535]);
    expect(candidateRange([10_500, 65_000])).toEqual([10_000, 65_535]);
  });

  it('returns distinct ports outside the ephemeral range that a server can then bind', async () => {
    const ports = await freePorts(12);
    expect(new Set(ports).size).toBe(12);
    const [low, high] = ephemeral();
    for (const port of ports) expect(port < low || port > high, `port ${port}`).toBe(true);
    for (const port of ports) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
