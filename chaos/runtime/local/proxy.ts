// A fault-injecting TCP proxy for one directed peer link (node `from` dialling node `to`). The local
// runtime points `from`'s --cluster entry for `to` at this proxy, so every byte between them passes
// through here and the lab can partition the link or make it lossy.
//
// Faithfulness to the Docker runtime (iptables DROP on packets):
// - A partition HOLDS the bytes in the blocked direction instead of delivering them, and delivers
//   them in order once healed, as TCP retransmission would. A closed end (FIN, RST) is held too, so
//   a partitioned peer learns nothing. Held bytes are bounded (`heldBytesMax`); past that the proxy
//   stops reading, which back-pressures the sender like a full TCP window.
// - TCP cannot lose a byte in the middle of a stream, so packet loss with probability p is modelled
//   as what TCP makes of it: each chunk is "lost" with probability p and then retransmitted after a
//   retransmission timeout that doubles on each consecutive loss (200 ms, 400 ms, ...); the stream
//   stalls meanwhile, keeping order. After `retransmissionsMax` consecutive losses the connection is
//   reset, as a kernel gives up on a connection.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface LinkFaults {
  /** Bytes from `from` to `to` are held (to's grudge includes from). */
  forwardBlocked: boolean;
  /** Bytes from `to` back to `from` are held (from's grudge includes to). */
  reverseBlocked: boolean;
  /** Probability in [0, 1] that a chunk is lost (and later retransmitted) in either direction. */
  lossProbability: number;
}

export const NO_FAULTS: LinkFaults = { forwardBlocked: false, reverseBlocked: false, lossProbability: 0 };

export interface LinkProxyOptions {
  from: string;
  to: string;
  targetHost: string;
  targetPort: number;
  /** Uniform [0, 1) source for loss decisions: the lab passes one forked from the run's seed. */
  random: () => number;
  /** Bytes held per direction before the proxy stops reading from the sender. */
  heldBytesMax?: number;
  retransmissionTimeoutMsMin?: number;
  retransmissionsMax?: number;
  /** Connections open through this link at once; more are refused (closed at once). */
  connectionsMax?: number;
}

const HELD_BYTES_MAX_DEFAULT = 4 * 1024 * 1024;
const RETRANSMISSION_TIMEOUT_MS_MIN_DEFAULT = 200;
const RETRANSMISSIONS_MAX_DEFAULT = 8;
const CONNECTIONS_MAX_DEFAULT = 64;

export class LinkProxy {
  private server: Server | undefined;
  private readonly pipes = new Set<Pipe>();
  private readonly sockets = new Set<Socket>();
  private faults: LinkFaults = NO_FAULTS;
  private connections = 0;

  constructor(private readonly options: LinkProxyOptions) {}

  get name(): string {
    return `${this.options.from}->${this.options.to}`;
  }

  /** Starts listening on 127.0.0.1 (port 0 = any free port); resolves with the port. */
  listen(port = 0): Promise<number> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        if (address === null || typeof address === 'string')
          return reject(new Error('proxy has no TCP address'));
        resolve(address.port);
      });
    });
  }

  setFaults(faults: LinkFaults): void {
    this.faults = { ...faults };
    for (const pipe of this.pipes) pipe.update();
  }

  get currentFaults(): LinkFaults {
    return this.faults;
  }

  /** Stops listening and destroys every connection through the link. */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(downstream: Socket): void {
    if (this.connections >= (this.options.connectionsMax ?? CONNECTIONS_MAX_DEFAULT)) {
      downstream.destroy();
      return;
    }
    this.connections += 1;
    const upstream = connect({ host: this.options.targetHost, port: this.options.targetPort, noDelay: true });
    for (const socket of [downstream, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined); // the matching 'close' tears the pair down
    }
    const forward = new Pipe(downstream, upstream, () => this.faults.forwardBlocked, this);
    const reverse = new Pipe(upstream, downstream, () => this.faults.reverseBlocked, this);
    this.pipes.add(forward).add(reverse);
    let open = 2;
    const closed = (socket: Socket): void => {
      this.sockets.delete(socket);
      open -= 1;
      if (open === 0) {
        this.pipes.delete(forward);
        this.pipes.delete(reverse);
        this.connections -= 1;
      }
    };
    downstream.once('close', () => closed(downstream));
    upstream.once('close', () => closed(upstream));
  }

  /** Milliseconds a chunk stalls for loss, or undefined when the connection gives up (reset). */
  lossStallMs(): number | undefined {
    const p = this.faults.lossProbability;
    if (p <= 0) return 0;
    const rtoMin = this.options.retransmissionTimeoutMsMin ?? RETRANSMISSION_TIMEOUT_MS_MIN_DEFAULT;
    const max = this.options.retransmissionsMax ?? RETRANSMISSIONS_MAX_DEFAULT;
    let stallMs = 0;
    for (let attempt = 0; this.options.random() < p; attempt += 1) {
      if (attempt + 1 >= max) return undefined;
      stallMs += rtoMin * 2 ** attempt;
    }
    return stallMs;
  }

  get heldBytesMax(): number {
    return this.options.heldBytesMax ?? HELD_BYTES_MAX_DEFAULT;
  }
}

type Item = { kind: 'data'; chunk: Buffer; readyAtMs: number } | { kind: 'end'; reset: boolean };

/** One direction of one proxied connection: an ordered queue from `source` to `sink`. */
class Pipe {
  private readonly queue: Item[] = [];
  private heldBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastReadyAtMs = 0;
  private sinkBlocked = false;
  private done = false;

  constructor(
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly blocked: () => boolean,
    private readonly link: LinkProxy,
  ) {
    source.on('data', (chunk: Buffer) => this.onData(chunk));
    source.once('end', () => this.push({ kind: 'end', reset: false }));
    // An abrupt close (RST, error, kill) travels like data: held while the link is blocked.
    source.once('close', (hadError: boolean) =>
      this.push({ kind: 'end', reset: hadError || !source.readableEnded }),
    );
    sink.on('drain', () => {
      this.sinkBlocked = false;
      this.pump();
    });
  }

  update(): void {
    this.pump();
  }

  private onData(chunk: Buffer): void {
    const stallMs = this.link.lossStallMs();
    if (stallMs === undefined) {
      // Too many consecutive losses: the connection times out, as TCP would.
      this.source.destroy();
      this.sink.destroy();
      return;
    }
    // Chunks leave in order: a chunk is never released before the one ahead of it.
    this.lastReadyAtMs = Math.max(Date.now() + stallMs, this.lastReadyAtMs);
    this.push({ kind: 'data', chunk, readyAtMs: this.lastReadyAtMs });
  }

  private push(item: Item): void {
    if (this.done) return;
    if (item.kind === 'end' && this.queue.some((queued) => queued.kind === 'end')) return;
    this.queue.push(item);
    if (item.kind === 'data') this.heldBytes += item.chunk.length;
    if (this.heldBytes > this.link.heldBytesMax) this.source.pause();
    this.pump();
  }

  private pump(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (!this.done && !this.blocked() && !this.sinkBlocked) {
      const item = this.queue[0];
      if (item === undefined) break;
      if (item.kind === 'end') return this.finish(item.reset);
      const waitMs = item.readyAtMs - Date.now();
      if (waitMs > 0) {
        this.timer = setTimeout(() => this.pump(), waitMs);
        return;
      }
      this.queue.shift();
      this.heldBytes -= item.chunk.length;
      if (!this.sink.destroyed && !this.sink.write(item.chunk)) this.sinkBlocked = true;
    }
    if (this.heldBytes <= this.link.heldBytesMax / 2 && this.source.isPaused() && !this.source.destroyed) {
      this.source.resume();
    }
  }

  private finish(reset: boolean): void {
    this.done = true;
    this.queue.length = 0;
    if (reset) this.sink.destroy();
    else this.sink.end();
  }
}
