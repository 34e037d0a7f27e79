import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { openWal } from './index.js';

const child = join(import.meta.dirname, 'test', 'crash-child.ts');
const dir = mkdtempSync(join(tmpdir(), 'raftlab-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer child until it has acknowledged `acksBeforeKill` saves, then SIGKILLs it. */
async function runAndKill(concurrency: number, acksBeforeKill: number): Promise<number[]> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, String(concurrency)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acked: number[] = [];
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    proc.on('exit', (_code, signal) => resolve(signal)),
  );
  for await (const line of createInterface({ input: proc.stdout })) {
    if (line.startsWith('ready')) continue;
    acked.push(Number(line));
    if (acked.length === acksBeforeKill) proc.kill('SIGKILL'); // in the middle of other saves
  }
  expect(await exited).toBe('SIGKILL');
  return acked;
}

describe('WAL crash safety', () => {
  it('keeps every save that resolved before a SIGKILL in the middle of writing, over several rounds', async () => {
    let everAcked = 0;
    const rounds: Array<[number, number]> = [
      [1, 150],
      [16, 400],
      [64, 700],
      [8, 233],
    ];
    for (const [round, [concurrency, kills]] of rounds.entries()) {
      const acked = await runAndKill(concurrency, kills);
      expect(acked.length).toBeGreaterThanOrEqual(kills);
      const wal = await openWal(dir); // the dead child's LOCK is stale and taken over
      try {
        const byIndex = new Map(wal.state.entries.map((e) => [e.index, e]));
        for (const index of acked) {
          const e = byIndex.get(index);
          expect(e, `acknowledged entry ${index} lost in round ${round}`).toBeDefined();
          expect(Buffer.from(e!.data).toString().startsWith(`value-${index}.`)).toBe(true);
        }
        expect(wal.state.entries.map((e) => e.index)).toEqual(wal.state.entries.map((_, i) => i + 1));
        expect(wal.state.hardState.term).toBe(round + 1);
        everAcked += acked.length;
      } finally {
        await wal.close();
      }
    }
    expect(everAcked).toBeGreaterThan(1000);
  });
});
