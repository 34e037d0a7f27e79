// Free TCP ports on 127.0.0.1 for local clusters (`lab cluster start`, the lab's local and Docker
// runtimes, the tests). Servers must be told their ports before they start (every node's --cluster
// names them), so a port is found free, released, and bound again later by the server; and a killed
// node must bind the same port again on restart. Two things can take a port in those gaps:
// - the kernel, handing it out as the source port of some outgoing connection or to a bind(0). So
//   ports come from *below* the ephemeral range (net.ipv4.ip_local_port_range), which the kernel
//   never hands out on its own. (A CI run once lost a node to EADDRINUSE on a port from that range.)
// - another program choosing the same way. Each call starts at a random place in a range of some
//   twenty thousand ports and verifies by binding, so two concurrent picks rarely meet.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

const HOST = '127.0.0.1';
/** Below this are well-known and commonly configured ports; leave them alone. */
const PORT_MIN = 10_000;
const EPHEMERAL_DEFAULT: readonly [number, number] = [32_768, 60_999];
const RANGE_SIZE_MIN = 1_000;

/** `count` distinct ports, each free on 127.0.0.1 at the moment of the call. */
export async function freePorts(count: number): Promise<number[]> {
  const [low, high] = candidateRange();
  const size = high - low + 1;
  // Not from a run's seed on purpose: which port a node listens on never changes a run's behaviour.
  const start = Math.floor(Math.random() * size);
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < size && ports.length < count; i += 1) {
      const port = low + ((start + i) % size);
      const server = await tryListen(port);
      if (server === undefined) continue;
      held.push(server);
      ports.push(port);
    }
  } finally {
    await Promise.all(held.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
  if (ports.length < count) throw new Error(`only ${ports.length} of ${count} free ports in ${low}-${high}`);
  return ports;
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}

/** The ports below the ephemeral range, or above it when below is too small. */
export function candidateRange(ephemeral = ephemeralRange()): [number, number] {
  const [ephemeralLow, ephemeralHigh] = ephemeral;
  if (ephemeralLow - PORT_MIN >= RANGE_SIZE_MIN) return [PORT_MIN, ephemeralLow - 1];
  if (65_535 - ephemeralHigh >= RANGE_SIZE_MIN) return [ephemeralHigh + 1, 65_535];
  return [PORT_MIN, 65_535]; // the ephemeral range covers nearly everything: verifying is all we can do
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low as number, high as number];
  } catch {
    // Not Linux: assume the usual range.
  }
  return [...EPHEMERAL_DEFAULT];
}

/** A server listening on the port, or undefined when something else has it. */
function tryListen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, HOST, () => resolve(server));
  });
}
