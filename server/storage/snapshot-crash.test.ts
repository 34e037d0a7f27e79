import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage, SnapshotMissingError } from './index.js';
import { chainAt, decodeImage, valueOf } from './test/snapshot-chain.js';

const child = join(import.meta.dirname, 'test', 'snapshot-crash-child.ts');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-snapcrash-'));
  dirs.push(dir);
  return dir;
}

interface Round {
  readonly mode: 'own' | 'install' | 'both';
  /** RAFTLAB_FAILPOINTS for the child ('' = the test kills it after `killAfterAcks` acks). */
  readonly failpoints: string;
  readonly killAfterAcks?: number;
  readonly unsafe?: boolean;
}

interface RoundResult {
  /** Highest index the child said was durable (an ack, or an installed snapshot). */
  readonly durable: number;
  readonly snapshots: number;
  readonly stderr: string;
}

/** Runs the child until a failpoint kills it (or the test does); returns what it acknowledged. */
async function runUntilKilled(dir: string, round: Round): Promise<RoundResult> {
  const env = {
    ...process.env,
    RAFTLAB_FAILPOINTS: round.failpoints,
    RAFTLAB_LAB_RUN_ID: 'snapshot-crash-test',
  };
  if (round.unsafe === true) Object.assign(env, { SNAPSHOT_CRASH_UNSAFE: '1' });
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, round.mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    proc.on('exit', (_code, signal) => resolve(signal)),
  );
  const guard = setTimeout(() => proc.kill('SIGKILL'), 20_000); // a failpoint that never fires
  let durable = 0;
  let acks = 0;
  let snapshots = 0;
  for await (const line of createInterface({ input: proc.stdout })) {
    const [kind, n] = line.split(' ');
    if (kind === 'ready') continue;
    durable = Math.max(durable, Number(n));
    if (kind === 'snap' || kind === 'install') snapshots++;
    if (kind === 'ack' && ++acks === round.killAfterAcks) proc.kill('SIGKILL');
  }
  clearTimeout(guard);
  expect(await exited, stderr).toBe('SIGKILL');
  return { durable, snapshots, stderr };
}

/** Reopens as a restarted node would and checks nothing acknowledged is missing or wrong. */
async function checkRestart(dir: string, durable: number): Promise<number> {
  const { storage, boot } = await openStorage(dir);
  await storage.close();
  const start = boot.snapshot?.meta.index ?? 0;
  if (boot.snapshot) {
    const image = decodeImage(boot.snapshot.data);
    expect(image.index).toBe(start);
    expect(image.chain, `snapshot at ${start} holds the wrong state`).toBe(chainAt(start));
  }
  boot.entries.forEach((e, i) => {
    expect(e.index).toBe(start + 1 + i);
    expect(Buffer.from(e.data).equals(valueOf(e.index)), `entry ${e.index}`).toBe(true);
  });
  const last = boot.entries.at(-1)?.index ?? start;
  expect(last, `acknowledged up to ${durable}, the restarted node has up to ${last}`).toBeGreaterThanOrEqual(
    durable,
  );
  return last;
}

describe('snapshots and WAL release under SIGKILL', () => {
  it('restarts with every acknowledged entry after kills at each snapshot failpoint, over several rounds', async () => {
    const dir = tempDir();
    const rounds: Round[] = [
      { mode: 'own', failpoints: 'snapshot-before-rename=crash#2' },
      { mode: 'own', failpoints: 'snapshot-after-rename-before-release=crash#3' },
      { mode: 'own', failpoints: 'wal-release-mid=crash#2' },
      { mode: 'both', failpoints: 'snapshot-before-rename=crash#4' },
      { mode: 'both', failpoints: 'snapshot-after-rename-before-release=crash#2' },
      { mode: 'both', failpoints: 'wal-release-mid=crash#3' },
      { mode: 'both', failpoints: 'wal-after-write-before-fsync=crash@0.02' },
      { mode: 'both', failpoints: '', killAfterAcks: 333 },
    ];
    let snapshots = 0;
    for (const round of rounds) {
      const result = await runUntilKilled(dir, round);
      if (round.failpoints !== '')
        expect(result.stderr).toContain(`failpoint ${round.failpoints.split('=')[0]}: crash`);
      await checkRestart(dir, result.durable);
      snapshots += result.snapshots;
    }
    expect(snapshots).toBeGreaterThan(10);
  }, 120_000);

  it('catches the unsafe order: a log-start record written before its snapshot is durable', async () => {
    const round: Round = { mode: 'install', failpoints: 'snapshot-before-rename=crash#1' };
    const safe = tempDir();
    await checkRestart(safe, (await runUntilKilled(safe, round)).durable);
    const unsafe = tempDir();
    await runUntilKilled(unsafe, { ...round, unsafe: true });
    const refusal = await openStorage(unsafe).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(SnapshotMissingError);
    expect((refusal as Error).message).toMatch(/starts after entry \d+ but no valid snapshot exists/);
  }, 60_000);
});
