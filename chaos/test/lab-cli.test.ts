// `lab run` and `lab analyze` flag errors: exit 254 with a clear message, before anything starts.
// Spawns the built binary (npm test builds first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLabOptions, replayCommand, serverEnv } from '../options-parse.js';
import { BadArgumentsError } from '../options.js';

const lab = join(import.meta.dirname, '..', '..', 'bin', 'lab.js');

function run(args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [lab, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stderr: result.stderr };
}

describe('lab run flags', () => {
  // Each spawn costs seconds on a shared machine: the binary is tested for both kinds of error
  // (ours and commander's), and every message through parseLabOptions below.
  it.each([
    [['--nemesis', 'partition,flood'], /--nemesis: unknown "flood"/],
    [['--no-such-flag'], /unknown option/],
  ])('%j exits 254 saying what is wrong', (args, message) => {
    const { status, stderr } = run(['run', ...args, '--store', mkdtempSync(join(tmpdir(), 'lab-flags-'))]);
    expect(status).toBe(254);
    expect(stderr).toMatch(message);
  });

  it('lab analyze of an empty store exits 254 naming where it looked', () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-flags-'));
    const { status, stderr } = run(['analyze', '--store', store]);
    expect(status).toBe(254);
    expect(stderr).toMatch(/no stored run found/);
  });

  it.each([
    [{ nodes: 'zero' }, /--nodes must be an integer/],
    [{ nemesis: 'none,kill' }, /none cannot be combined/],
    [{ concurrency: '3x' }, /--concurrency must be a count/],
    [{ runtime: 'vm' }, /--runtime must be docker or local/],
    [{ serverUnsafe: 'fast-and-loose' }, /--server-unsafe: unknown "fast-and-loose"/],
    [{ timeLimit: '-5' }, /--time-limit must be/],
    [{ seed: '1.5' }, /--seed must be an integer/],
    [{ partitionShapes: 'triangle' }, /--partition-shapes: unknown "triangle"/],
    [{ clientResponseLoss: '1' }, /--client-response-loss must be a number from 0 to 0.9/],
    [{ failpoints: 'after-vote-persisted=explode' }, /--failpoints: bad failpoint/],
    [{ failpoints: 'no-such-point=crash' }, /--failpoints: unknown failpoint "no-such-point"/],
    [{ faultTargets: 'everyone' }, /--fault-targets: unknown "everyone"/],
  ])('%j is refused with a clear message', (raw, message) => {
    expect(() => parseLabOptions(raw)).toThrow(BadArgumentsError);
    expect(() => parseLabOptions(raw)).toThrow(message);
  });

  it('parses counts per node, all, and the derived name', () => {
    const options = parseLabOptions({
      nodes: '3',
      concurrency: '4n',
      nemesis: 'all',
      serverUnsafe: 'stale-leader-read',
    });
    expect(options.concurrency).toBe(12);
    expect(options.faultKinds).toEqual(['partition', 'pause', 'kill', 'packet']);
    expect(options.name).toBe('all-unsafe-stale-leader-read');
    expect(parseLabOptions({ nemesis: 'none' }).faultKinds).toEqual([]);
    expect(parseLabOptions({ nemesis: 'all,clock,power' }).faultKinds).toEqual([
      'partition',
      'pause',
      'kill',
      'packet',
      'power',
      'clock',
    ]);
    expect(() => parseLabOptions({ rate: '0' })).toThrow(BadArgumentsError);
  });

  it('keeps --client-response-loss in the replay command only when it is set', () => {
    const lossy = parseLabOptions({ clientResponseLoss: '0.05' });
    expect(lossy.clientResponseLoss).toBe(0.05);
    expect(replayCommand(lossy, 7, 'local')).toContain('--client-response-loss 0.05 ');
    expect(replayCommand(parseLabOptions({}), 7, 'local')).not.toContain('--client-response-loss');
  });

  it('passes power cuts and failpoints to the servers only when asked, seeded by the run', () => {
    expect(serverEnv(parseLabOptions({ nemesis: 'kill' }), 7)).toEqual({});
    expect(serverEnv(parseLabOptions({ nemesis: 'power' }), 7)).toEqual({ RAFTLAB_LOSE_UNSYNCED: '1' });
    const armed = parseLabOptions({ failpoints: 'after-vote-persisted=crash@0.5' });
    expect(serverEnv(armed, 7)).toEqual({
      RAFTLAB_FAILPOINTS: 'after-vote-persisted=crash@0.5',
      RAFTLAB_FAILPOINTS_SEED: '7',
    });
    expect(replayCommand(armed, 7, 'local')).toContain("--failpoints 'after-vote-persisted=crash@0.5'");
  });
});
