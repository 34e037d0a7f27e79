// The crash tests' "state machine": a CRC32C chain over the values value-1, value-2, ..., so any
// snapshot's contents can be checked from its index alone.
import { crc32c } from '../crc32c.js';

export function valueOf(index: number): Buffer {
  return Buffer.from(`value-${index}`.padEnd(60 + (index % 40), '.'));
}

/** The state after applying entries 1..index (continuing from `from`). */
export function chainAt(index: number, from = { index: 0, chain: 0 }): number {
  let chain = from.chain;
  for (let i = from.index + 1; i <= index; i++) chain = crc32c(valueOf(i), chain);
  return chain;
}

export interface ChainImage {
  readonly index: number;
  readonly chain: number;
}

export function encodeImage(image: ChainImage): Buffer {
  return Buffer.from(JSON.stringify(image));
}

export function decodeImage(data: Uint8Array): ChainImage {
  return JSON.parse(Buffer.from(data).toString()) as ChainImage;
}
