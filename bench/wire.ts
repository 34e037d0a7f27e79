import { loadavg } from 'node:os';
// Wire codec micro-benchmark: encode and decode of the envelopes on the hot path (heartbeats,
// appends, client puts and their responses), and the frame decoder over a stream of small frames.
// Run: npx tsx bench/wire.ts   (writes the "wire" section of BENCHMARKS.md)
import { decodeEnvelope, encodeEnvelope, encodeEnvelopeFrame, type Envelope } from '../proto/codec.js';
import { encodeFrame, FrameDecoder } from '../proto/framing.js';
import { writeSection } from './report.js';

const entries = Array.from({ length: 16 }, (_, i) => ({
  term: 7,
  index: 1000 + i,
  type: 'normal' as const,
  data: new Uint8Array(140),
}));
const cases: Array<[string, Envelope]> = [
  [
    'raft heartbeat',
    {
      kind: 'raft',
      message: {
        type: 'heartbeat',
        from: 'n1',
        to: 'n2',
        term: 7,
        commit: 12345,
        context: new Uint8Array(8),
      },
    },
  ],
  [
    'raft append, 16 entries of 140 B',
    {
      kind: 'raft',
      message: {
        type: 'append',
        from: 'n1',
        to: 'n2',
        term: 7,
        prevLogIndex: 999,
        prevLogTerm: 7,
        entries,
        commit: 998,
      },
    },
  ],
  [
    'client put, 16 B key, 100 B value',
    {
      kind: 'client-request',
      request: {
        requestId: 9,
        clientId: 77,
        sequence: 12,
        ackedSequence: 11,
        op: { type: 'put', key: new Uint8Array(16), value: new Uint8Array(100) },
      },
    },
  ],
  [
    'client response (put ok)',
    { kind: 'client-response', response: { requestId: 9, result: { type: 'put' } } },
  ],
];

function opsPerSec(iterations: number, f: () => void): number {
  for (let i = 0; i < iterations / 10; i++) f(); // warm up
  const start = performance.now();
  for (let i = 0; i < iterations; i++) f();
  return iterations / ((performance.now() - start) / 1000);
}

const rows: string[] = [];
for (const [name, envelope] of cases) {
  const bytes = encodeEnvelope(envelope);
  const iterations = bytes.length > 1000 ? 20_000 : 200_000;
  const enc = opsPerSec(iterations, () => encodeEnvelope(envelope));
  const dec = opsPerSec(iterations, () => decodeEnvelope(bytes));
  rows.push(`| ${name} | ${bytes.length} | ${(enc / 1000).toFixed(0)}k | ${(dec / 1000).toFixed(0)}k |`);
}

// Whole frames: two allocations and a copy, against one allocation with the length patched in.
const append = cases[1]![1];
const twoStep = opsPerSec(20_000, () => encodeFrame(encodeEnvelope(append)));
const oneStep = opsPerSec(20_000, () => encodeEnvelopeFrame(append));

// 1,000 client-put frames split into 1,400-byte chunks, as a socket would deliver them.
const frame = encodeFrame(encodeEnvelope(cases[2]![1]));
const stream = Buffer.concat(Array.from({ length: 1000 }, () => frame));
const chunks = Array.from({ length: Math.ceil(stream.length / 1400) }, (_, i) =>
  stream.subarray(i * 1400, (i + 1) * 1400),
);
const streamsPerSec = opsPerSec(500, () => {
  const decoder = new FrameDecoder(1 << 20);
  for (const chunk of chunks) decoder.push(chunk);
});
const framesPerSec = streamsPerSec * 1000;
const mbPerSec = (streamsPerSec * stream.length) / 2 ** 20;

const body = `## Wire codec (\`npx tsx bench/wire.ts\`)

| envelope | bytes | encodes/s | decodes/s |
| --- | ---: | ---: | ---: |
${rows.join('\n')}

Whole append frame: \`encodeEnvelopeFrame\` ${(oneStep / 1000).toFixed(0)}k/s, \`encodeFrame(encodeEnvelope())\` ${(twoStep / 1000).toFixed(0)}k/s.

Load average at the end: ${loadavg()[0]!.toFixed(1)} (the machine is shared; a high load makes these figures pessimistic).

Frame decoder: ${(framesPerSec / 1e6).toFixed(2)} M frames/s (${mbPerSec.toFixed(0)} MiB/s) for ${frame.length}-byte frames arriving in 1,400-byte chunks.`;
process.stderr.write(`${body}\n`);
writeSection('wire', body);
