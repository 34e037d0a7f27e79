// FNV-1a (32-bit) folded over numbers, strings and bytes: the state machine's digest, which
// replicas at the same applied index must agree on (the simulator compares them). Not
// cryptographic; it only has to make an accidental match between two different states unlikely.

export const DIGEST_SEED = 0x811c9dc5;

export function digestByte(h: number, byte: number): number {
  return Math.imul(h ^ (byte & 0xff), 0x01000193) >>> 0;
}

/** Folds a non-negative integer below 2^53 in, as 7 bytes. */
export function digestNumber(h: number, n: number): number {
  let low = n >>> 0;
  let high = Math.floor(n / 0x1_0000_0000);
  for (let i = 0; i < 4; i++, low >>>= 8) h = digestByte(h, low);
  for (let i = 0; i < 3; i++, high >>>= 8) h = digestByte(h, high);
  return h;
}

/** Folds a string in (its UTF-16 units, then its length, so "ab"+"c" differs from "a"+"bc"). */
export function digestString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    h = digestByte(digestByte(h, unit), unit >>> 8);
  }
  return digestNumber(h, s.length);
}

export function digestBytes(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) h = digestByte(h, bytes[i] as number);
  return digestNumber(h, bytes.length);
}
