// Child process for the crash test: writes entries to the WAL as fast as it can from several
// concurrent writers and prints each index once its save() has resolved (stdout to a pipe is
// synchronous on Linux, so a printed index was acknowledged before any later kill).
// Usage: node --import tsx crash-child.ts DIR CONCURRENCY
import { openWal } from '../index.js';

const [dir, concurrencyText] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: crash-child.ts DIR CONCURRENCY');
const wal = await openWal(dir, { segmentSizeBytesMax: 64 * 1024 });
const term = wal.state.hardState.term + 1;
let next = wal.lastIndex + 1;
process.stdout.write(`ready ${wal.lastIndex}\n`);

async function writer(): Promise<never> {
  for (;;) {
    const index = next++;
    const data = Buffer.from(`value-${index}`.padEnd(100 + (index % 50), '.'));
    await wal.save({ term, vote: 'n1', commit: index - 1 }, [{ index, term, type: 'normal', data }]);
    process.stdout.write(`${index}\n`);
  }
}

await Promise.all(Array.from({ length: Number(concurrencyText ?? '1') }, () => writer()));
