// Child process for the snapshot crash test: a node's disk traffic, fast. It writes entries in
// batches of 5 (each save also commits them), takes a snapshot of its "state machine" every 10
// batches and releases the log after it, and in install mode also installs snapshots "from a
// leader" that jump 30 entries ahead. Prints `ack N` once entries up to N are durable, `snap N` and
// `install N` once such a snapshot is. The state machine is snapshot-chain.ts.
// Usage: node --import tsx snapshot-crash-child.ts DIR own|install|both  (env: RAFTLAB_FAILPOINTS,
// RAFTLAB_LAB_RUN_ID, SNAPSHOT_CRASH_UNSAFE=1 for the log-start-before-snapshot variant)
import { armFailpoints } from '../../failpoints/failpoints.js';
import type { Entry, Snapshot } from '../../raft/types.js';
import { openStorage } from '../index.js';
import { chainAt, decodeImage, encodeImage, valueOf } from './snapshot-chain.js';

const BATCH_ENTRIES = 5;
const SNAPSHOT_EVERY_BATCHES = 10;
const INSTALL_EVERY_BATCHES = 7;
const INSTALL_JUMP_ENTRIES = 30;

function image(index: number, chain: number, term: number): Snapshot {
  return { meta: { index, term }, data: encodeImage({ index, chain }) };
}

async function main(): Promise<void> {
  const [dir, mode = 'own'] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: snapshot-crash-child.ts DIR own|install|both');
  armFailpoints(process.env);
  const unsafe = { logStartBeforeSnapshot: process.env.SNAPSHOT_CRASH_UNSAFE === '1' };
  const { storage, boot } = await openStorage(dir, { segmentSizeBytesMax: 4096 }, unsafe);
  const term = boot.hardState.term + 1;
  const start = boot.snapshot ? decodeImage(boot.snapshot.data) : { index: 0, chain: 0 };
  let last = boot.entries.at(-1)?.index ?? start.index;
  let chain = chainAt(last, start);
  process.stdout.write(`ready ${last}\n`);
  for (let batch = 1; ; batch++) {
    const entries: Entry[] = Array.from({ length: BATCH_ENTRIES }, (_, i) => ({
      index: last + 1 + i,
      term,
      type: 'normal',
      data: valueOf(last + 1 + i),
    }));
    await storage.persist({ term, vote: 'n1', commit: last + BATCH_ENTRIES }, entries);
    chain = chainAt(last + BATCH_ENTRIES, { index: last, chain });
    last += BATCH_ENTRIES;
    process.stdout.write(`ack ${last}\n`);
    if (mode !== 'install' && batch % SNAPSHOT_EVERY_BATCHES === 0) {
      await storage.saveSnapshot(image(last, chain, term));
      process.stdout.write(`snap ${last}\n`);
      await storage.releaseLog(last - 2 * BATCH_ENTRIES);
    }
    if (mode !== 'own' && batch % INSTALL_EVERY_BATCHES === 0) {
      const jump = last + INSTALL_JUMP_ENTRIES;
      chain = chainAt(jump, { index: last, chain });
      last = jump;
      await storage.persist({ term, vote: 'n1', commit: jump }, [], image(jump, chain, term));
      process.stdout.write(`install ${jump}\n`);
    }
  }
}

await main();
