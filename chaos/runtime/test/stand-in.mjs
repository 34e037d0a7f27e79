// A stand-in for `lab server` in the runtime tests: same flags (--id, --cluster, --data-dir), no Raft.
// Each node sends a heartbeat line to every peer every 50 ms over the peer port and each receiver
// answers with an ack on the same connection, so a test can see which directions of which links carry
// traffic. The client port answers one-line commands: `status` (JSON: how long ago each peer was
// heard from / acked us) and `incr` (a counter persisted in the data directory, to test that data
// survives kill and restart).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flag = (name) => {
  const at = args.indexOf(name);
  if (at < 0 || at + 1 >= args.length) throw new Error(`stand-in: missing ${name}`);
  return args[at + 1];
};
const id = flag('--id');
const dataDir = flag('--data-dir');
const members = flag('--cluster')
  .split(',')
  .map((entry) => {
    const [, memberId, host, clientPort, peerPort] = /^(.+)=(.+):(\d+)\/(\d+)$/.exec(entry);
    return { id: memberId, host, clientPort: Number(clientPort), peerPort: Number(peerPort) };
  });
const self = members.find((m) => m.id === id);
mkdirSync(dataDir, { recursive: true });
const counterFile = join(dataDir, 'counter');
const lastHeard = {};
const lastAcked = {};

function onLines(socket, handle) {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (text) => {
    buffered += text;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      handle(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  });
  socket.on('error', () => undefined);
}

createServer((socket) =>
  onLines(socket, (line) => {
    const [kind, from] = line.split(' ');
    if (kind !== 'hb') return;
    lastHeard[from] = Date.now();
    socket.write(`ack ${id}\n`);
  }),
).listen(self.peerPort, self.host);

function dial(peer) {
  const socket = connect({ host: peer.host, port: peer.peerPort });
  const timer = setInterval(() => socket.write(`hb ${id}\n`), 50);
  onLines(socket, (line) => {
    if (line.startsWith('ack ')) lastAcked[peer.id] = Date.now();
  });
  socket.on('close', () => {
    clearInterval(timer);
    setTimeout(() => dial(peer), 100);
  });
}
for (const peer of members) if (peer.id !== id) dial(peer);

const ago = (record) => Object.fromEntries(Object.entries(record).map(([k, t]) => [k, Date.now() - t]));
const readCounter = () => {
  try {
    return Number(readFileSync(counterFile, 'utf8'));
  } catch {
    return 0;
  }
};
createServer((socket) =>
  onLines(socket, (line) => {
    if (line === 'status')
      socket.write(`${JSON.stringify({ id, heardMsAgo: ago(lastHeard), ackedMsAgo: ago(lastAcked) })}\n`);
    if (line === 'incr') {
      const next = readCounter() + 1;
      writeFileSync(counterFile, String(next));
      socket.write(`${next}\n`);
    }
  }),
).listen(self.clientPort, self.host, () => process.stderr.write(`stand-in ${id} up pid ${process.pid}\n`));
process.on('SIGTERM', () => {
  process.stderr.write(`stand-in ${id} stopping on SIGTERM\n`);
  process.exit(0);
});
