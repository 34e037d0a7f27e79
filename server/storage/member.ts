// The MEMBER file: written durably once a node's first WAL records are synced and before the
// first save resolves (so before any promise), it says "this data directory has held a cluster
// member's state". What a start makes of it is in start-decision.ts.
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { DataDirMismatchError } from './errors.js';
import type { MemberIdentity } from './start-decision.js';

export const MEMBER_FILE_NAME = 'MEMBER';

/** The MEMBER file of `dir`; undefined when there is none. */
export async function readMember(dir: string): Promise<MemberIdentity | undefined> {
  const file = join(dir, MEMBER_FILE_NAME);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<MemberIdentity>;
    if (typeof parsed.node === 'string' && typeof parsed.cluster === 'string')
      return { node: parsed.node, cluster: parsed.cluster };
  } catch {
    // reported below
  }
  throw new DataDirMismatchError(
    dir,
    `${file} is not a MEMBER file ({"node", "cluster"}): ${JSON.stringify(text.slice(0, 80))}`,
  );
}

/** Writes MEMBER atomically and durably: temp file, fsync, rename, fsync the directory. */
export async function writeMember(dir: string, identity: MemberIdentity): Promise<void> {
  const file = join(dir, MEMBER_FILE_NAME);
  const temp = `${file}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(`${JSON.stringify(identity)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
