// `lab run` and `lab analyze` flag errors: exit 254 with a clear message, before anything starts.
// Spawns the built binary (npm test builds first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labWarnings, parseLabOptions, replayCommand, serverArgs, serverEnv } from '../options-parse.js';
import { BadArgumentsError } from '../options.js';
import { containerCommand } from '../runtime/docker/docker-runtime.js';

const lab = join(import.meta.dirname, '..', '..', 'bin', 'lab.js');

function run(args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [lab, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stderr: result.stderr };
}

describe('lab run flags', () => {
  // Each spawn costs seconds on a shared machine: the binary is tested for both kinds of error
  // (ours and commander's), and every message through parseLabOptions below.
  it.each([
    [
      ['--nemesis', 'partition,flood'],
      /option '--nemesis <list>' argument 'partition,flood' is invalid. unknown "flood"/,
    ],
    [['--no-such-flag'], /unknown option/],
    [['--client-mode', 'sticky'], /option '--client-mode <mode>' argument 'sticky' is invalid/],
    [['--snapshot-entries', '-5'], /option '--snapshot-entries <n>' argument '-5' is invalid/],
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
    [{ nodes: 'zero' }, /--nodes "zero": expected an integer from 1 to 9/],
    [{ nemesis: 'none,kill' }, /none cannot be combined/],
    [{ concurrency: '3x' }, /--concurrency "3x": expected a count/],
    [{ concurrency: '300n' }, /--concurrency 300n means 1500 clients; at most 1000/],
    [{ runtime: 'vm' }, /--runtime must be one of docker, local/],
    [
      { serverUnsafe: 'fast-and-loose' },
      /--server-unsafe "fast-and-loose": unknown unsafe variant "fast-and-loose"/,
    ],
    [{ serverUnsafe: 'no-pre-vote' }, /"no-pre-vote" \(it exists in lab sim only\)/],
    [{ timeLimit: '-5' }, /--time-limit "-5": expected a number from 1 to 86400/],
    [{ seed: '1.5' }, /--seed "1.5": expected an integer/],
    [{ partitionShapes: 'triangle' }, /--partition-shapes "triangle": unknown "triangle"/],
    [{ clientResponseLoss: '1' }, /--client-response-loss "1": expected a number from 0 to 0.9/],
    [{ name: '../../x' }, /--name "..\/..\/x": expected 1 to 64 letters/],
    [{ name: 'a/b' }, /--name "a\/b": expected/],
    [{ name: 'a..b' }, /no '..'/],
    [
      { failpoints: 'after-vote-persisted=explode' },
      /--failpoints "after-vote-persisted=explode": bad failpoint/,
    ],
    [{ failpoints: 'no-such-point=crash' }, /unknown failpoint "no-such-point"/],
    [{ faultTargets: 'everyone' }, /--fault-targets "everyone": unknown "everyone"/],
    [{ clientMode: 'sticky' }, /--client-mode must be one of pinned, leader, mixed, got "sticky"/],
    [{ nemesis: 'pause-follower' }, /--nemesis "pause-follower": unknown "pause-follower"/],
    [{ nemesis: 'none,pause-leader' }, /none cannot be combined/],
    [{ electionTimeoutMs: '50', heartbeatIntervalMs: '100' }, /must be longer than the heartbeat interval/],
    [
      { electionTimeoutMs: '80' },
      /election timeout \(80 ms\) must be longer than the heartbeat interval \(100 ms\)/,
    ],
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
    // power and clock are asked for by name: `all` keeps the four faults every run can take.
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

  it('takes the leader-aimed schedules by name, apart from the fault kinds, and pinned or mixed clients', () => {
    const options = parseLabOptions({ nemesis: 'kill,isolate-leader,pause-leader,majorities-ring' });
    expect(options.faultKinds).toEqual(['kill']);
    expect(options.aimedFaults).toEqual(['isolate-leader', 'majorities-ring', 'pause-leader']);
    expect(options.name).toBe('kill-isolate-leader-pause-leader-majorities-ring');
    expect(parseLabOptions({ nemesis: 'all' }).aimedFaults).toEqual([]);
    expect(options.clientMode).toBe('leader');
    const pinned = parseLabOptions({ clientMode: 'pinned', nemesis: 'pause-leader' });
    expect(pinned.clientMode).toBe('pinned');
    expect(replayCommand(pinned, 7, 'local')).toContain('--nemesis pause-leader ');
    expect(replayCommand(pinned, 7, 'local')).toContain('--client-mode pinned ');
  });

  it('keeps --client-response-loss in the replay command only when it is set', () => {
    const lossy = parseLabOptions({ clientResponseLoss: '0.05' });
    expect(lossy.clientResponseLoss).toBe(0.05);
    expect(replayCommand(lossy, 7, 'local')).toContain('--client-response-loss 0.05 ');
    expect(replayCommand(parseLabOptions({}), 7, 'local')).not.toContain('--client-response-loss');
  });
});

describe('lab run options: the rules between flags', () => {
  it('reports every problem at once, one line each', () => {
    const problems = (() => {
      try {
        parseLabOptions({ nemesis: 'none,kill', concurrency: '900n', electionTimeoutMs: '50' });
      } catch (error) {
        return (error as Error).message.split('\n');
      }
      return [];
    })();
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/--nemesis none cannot be combined/);
    expect(problems[1]).toMatch(/--concurrency 900n means 4500 clients/);
    expect(problems[2]).toMatch(/election timeout \(50 ms\)/);
  });

  it('refuses a store that is a file, or under one, and accepts one that does not exist yet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-flags-'));
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    expect(() => parseLabOptions({ store: file })).toThrow(/--store .* is a file, not a folder/);
    expect(() => parseLabOptions({ store: join(file, 'sub') })).toThrow(/is under a file/);
    expect(parseLabOptions({ store: join(dir, 'new') }).store).toBe(join(dir, 'new'));
  });

  it('warns that fewer than three nodes tolerate no fault, unless there are no faults', () => {
    expect(labWarnings(parseLabOptions({ nodes: '2' }))[0]).toMatch(/two nodes tolerate no fault/);
    expect(labWarnings(parseLabOptions({ nodes: '2', nemesis: 'none' }))).toEqual([]);
    expect(labWarnings(parseLabOptions({ nodes: '3' }))).toEqual([]);
  });

  it('passes power cuts and failpoints to the servers only when asked, seeded by the run', () => {
    expect(serverEnv(parseLabOptions({ nemesis: 'kill' }), 7)).toEqual({});
    expect(serverEnv(parseLabOptions({ nemesis: 'power' }), 7)).toEqual({ RAFTLAB_LOSE_UNSYNCED: '1' });
    const armed = parseLabOptions({ failpoints: 'after-vote-persisted=crash@0.5' });
    expect(serverEnv(armed, 7)).toEqual({
      RAFTLAB_FAILPOINTS: 'after-vote-persisted=crash@0.5',
      RAFTLAB_FAILPOINTS_SEED: '7',
    });
    expect(replayCommand(armed, 7, 'local')).toContain('--failpoints after-vote-persisted=crash@0.5');
  });

  it('hands the server flags on under their server names, and only when set', () => {
    const options = parseLabOptions({
      serverUnsafe: 'stale-leader-read',
      electionTimeoutMs: '400',
      tickMs: '5',
    });
    expect(serverArgs(options)).toEqual([
      '--unsafe',
      'stale-leader-read',
      '--election-timeout-ms',
      '400',
      '--tick-ms',
      '5',
      '--snapshot-entries',
      '500',
      '--snapshot-tail-entries',
      '100',
    ]);
    // The lab's own snapshot defaults (small, so a run compacts) are always handed on.
    expect(serverArgs(parseLabOptions({}))).toEqual([
      '--snapshot-entries',
      '500',
      '--snapshot-tail-entries',
      '100',
    ]);
    const small = parseLabOptions({
      snapshotEntries: '100',
      snapshotTailEntries: '10',
      snapshotChunkBytes: '4096',
    });
    expect(serverArgs(small)).toEqual([
      '--snapshot-entries',
      '100',
      '--snapshot-tail-entries',
      '10',
      '--snapshot-chunk-bytes',
      '4096',
    ]);
    expect(replayCommand(small, 7, 'local')).toContain(
      '--snapshot-entries 100 --snapshot-tail-entries 10 --snapshot-chunk-bytes 4096',
    );
    expect(replayCommand(parseLabOptions({}), 7, 'local')).not.toContain('--snapshot');
    // The Docker runtime puts the same flags on each container's command line.
    expect(containerCommand(['server'], 'n2', 'n1=a:1,n2=b:2', serverArgs(small))).toEqual([
      'server',
      '--id',
      'n2',
      '--cluster',
      'n1=a:1,n2=b:2',
      '--data-dir',
      '/data',
      ...serverArgs(small),
    ]);
  });

  it('takes fall-behind as a leader-aimed schedule, alone or with partitions', () => {
    expect(parseLabOptions({ nemesis: 'partition,fall-behind' })).toMatchObject({
      faultKinds: ['partition'],
      aimedFaults: ['fall-behind'],
    });
    expect(parseLabOptions({ nemesis: 'fall-behind' })).toMatchObject({
      faultKinds: [],
      aimedFaults: ['fall-behind'],
    });
  });

  it('replays a run with the flags as typed, and a replay command parses back to the same options', () => {
    const options = parseLabOptions({
      nodes: '3',
      concurrency: '3n',
      nemesisInterval: '2.5',
      timeLimit: '30',
      store: 'elsewhere',
    });
    const replay = replayCommand(options, 42, 'local');
    expect(replay).toBe(
      'lab run --nodes 3 --nemesis partition --nemesis-interval 2.5 --concurrency 3n --rate 100 --time-limit 30 --ops-per-key 100 --keys-active 3 --request-timeout-ms 500 --operation-timeout-ms 2000 --client-mode leader --store elsewhere --runtime local --seed 42',
    );
    const again = replayArgs(replay);
    expect({ ...parseLabOptions(again), seed: undefined, runtime: undefined }).toEqual({
      ...options,
      keysActive: 3,
    });
  });
});

/** `lab run --a 1 --b 2` as commander-style raw options { a: '1', b: '2' }. */
function replayArgs(command: string): Record<string, string> {
  const words = command.split(' ').slice(2);
  const raw: Record<string, string> = {};
  for (let i = 0; i < words.length; i += 2)
    raw[words[i]!.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = words[i + 1]!;
  return raw;
}
