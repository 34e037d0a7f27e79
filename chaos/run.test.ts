// The orchestration end to end against fakes: an in-memory cluster (fake runtime and clients) and
// the real checker. The real runtimes and server are exercised by test/lab-e2e.test.ts.
import { counterexampleFileName } from '../checker/view/index.js';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../checker/check.js';
import { parseHistory } from '../checker/history.js';
import { RaftlabError } from '../shared/errors.js';
import { analyzeRun } from './analyze.js';
import type { LabDeps } from './lab-deps.js';
import { LabLog } from './lab-log.js';
import { runLab } from './lab.js';
import { parseLabOptions } from './options-parse.js';
import type { RawLabOptions } from './options.js';
import type { RunResults } from './results-types.js';
import type { Runtime } from './runtime/types.js';

/** A cluster in memory: one register per key; `staleReads` makes every 5th read return an old value. */
function fakeCluster(staleReads: boolean) {
  const data = new Map<string, string>();
  const previous = new Map<string, string>();
  const calls: string[] = [];
  const down = new Set<string>();
  let reads = 0;
  const runtime: Runtime = {
    name: 'local',
    start: async (spec) => {
      // Each test of a series starts a fresh cluster.
      data.clear();
      previous.clear();
      return spec.nodes.map((id, i) => ({ id, clientEndpoint: `127.0.0.1:${7000 + i}` }));
    },
    kill: async (node) => void (calls.push(`kill ${node}`), down.add(node)),
    restart: async (node) => void (calls.push(`restart ${node}`), down.delete(node)),
    stop: async (node) => void calls.push(`stop ${node}`),
    pause: async (node) => void (calls.push(`pause ${node}`), down.add(node)),
    resume: async (node) => void (calls.push(`resume ${node}`), down.delete(node)),
    partition: async (grudge) => void calls.push(`partition ${grudge.size}`),
    packetLoss: async (nodes, p) => void calls.push(`loss ${nodes.length} ${p}`),
    heal: async () => void calls.push('heal'),
    collectLogs: async (dir) => {
      writeFileSync(join(dir, 'n1.log'), 'log\n');
      return { n1: join(dir, 'n1.log') };
    },
    teardown: async () => void calls.push('teardown'),
  };
  const write = (key: string, value: string) => {
    previous.set(key, data.get(key) ?? '');
    data.set(key, value);
  };
  const deps: LabDeps = {
    selectRuntime: async () => ({ runtime, reason: 'a fake for the orchestration test' }),
    clients: () => () => ({
      get: async (key) => {
        reads += 1;
        if (staleReads && reads % 5 === 0 && previous.has(key)) return previous.get(key) || null;
        return data.get(key) ?? null;
      },
      put: async (key, value) => write(key, value),
      cas: async (key, expected, value) => {
        if ((data.get(key) ?? null) !== expected) throw new RaftlabError('CAS_MISMATCH', 'differs');
        write(key, value);
      },
      append: async (key, value) => {
        write(key, (data.get(key) ?? '') + value);
        return data.get(key) as string;
      },
      close: () => undefined,
    }),
    status: async (endpoint) => ({
      id: `n${Number(endpoint.split(':')[1]) - 6999}`,
      role: endpoint.endsWith('7000') ? 'leader' : 'follower',
      term: 1,
      leader: 'n1',
    }),
    check: async (events, options) => checkHistory(events, options),
    writeCounterexampleViews: (_events, result, dir) =>
      result.keys
        .filter((key) => key.verdict === 'illegal')
        .map((key) => {
          const path = join(dir, counterexampleFileName(key.key));
          writeFileSync(path, '<html></html>', { flag: 'w' });
          return path;
        }),
  };
  return { deps, calls, down };
}

function quietLog(): LabLog {
  return new LabLog({ write: () => true });
}

function options(store: string, extra: RawLabOptions = {}) {
  return parseLabOptions({
    timeLimit: '2',
    nemesisInterval: '0.3',
    nemesis: 'all',
    rate: '300',
    store,
    seed: '11',
    ...extra,
  });
}

describe('lab run orchestration (fake cluster, real checker)', () => {
  it('stores a valid run with history, results, logs and links, and heals and tears down', async () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-run-'));
    const cluster = fakeCluster(false);
    const { outcomes, exitCode } = await runLab(options(store), cluster.deps, quietLog());
    expect(exitCode).toBe(0);
    const [outcome] = outcomes;
    const results = JSON.parse(readFileSync(join(outcome!.runDir, 'results.json'), 'utf8')) as RunResults;
    expect(results.verdict).toBe('valid');
    expect(results.finishedAt).not.toBeNull();
    expect(results.seed).toBe(11);
    expect(results.replayCommand).toContain('--seed 11');
    expect(results.counts.total.ok).toBeGreaterThan(100);
    expect(results.faults.length).toBeGreaterThan(0);
    expect(results.faults.every((fault) => fault.stopTime !== null)).toBe(true);
    expect(results.checker.keys.length).toBeGreaterThan(1);
    expect(results.nodeLogs).toEqual({ n1: 'logs/n1.log' });
    const history = parseHistory(readFileSync(join(outcome!.runDir, 'history.jsonl'), 'utf8'));
    expect(history.some((event) => event.type === 'nemesis' && event.fault === 'heal-all')).toBe(true);
    expect(readFileSync(join(outcome!.runDir, 'lab.log'), 'utf8')).toContain('seed: 11');
    expect(readlinkSync(join(store, 'all', 'latest'))).toBe(outcome!.runDir.split('/').pop());
    expect(cluster.down.size).toBe(0);
    expect(cluster.calls.at(-1)).toBe('teardown');
  });

  it('finds the stale reads of a broken cluster and writes a counterexample view', async () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-run-'));
    const { outcomes, exitCode } = await runLab(
      options(store, { nemesis: 'none' }),
      fakeCluster(true).deps,
      quietLog(),
    );
    expect(exitCode).toBe(1);
    const results = outcomes[0]!.results;
    expect(results.verdict).toBe('invalid');
    const illegal = results.checker.keys.filter((key) => key.verdict === 'illegal');
    expect(illegal.length).toBeGreaterThan(0);
    expect(existsSync(join(outcomes[0]!.runDir, illegal[0]!.view!))).toBe(true);
  });

  it('lab analyze re-checks the latest stored run and rewrites its verdict and views', async () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-run-'));
    const cluster = fakeCluster(true);
    const { outcomes } = await runLab(options(store, { nemesis: 'none' }), cluster.deps, quietLog());
    const runDir = outcomes[0]!.runDir;
    const stored = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResults;
    writeFileSync(
      join(runDir, 'results.json'),
      JSON.stringify({ ...stored, verdict: 'valid', checker: { ...stored.checker, keys: [] } }),
    );
    rmSync(join(runDir, 'counterexamples'), { recursive: true });
    const { verdict } = await analyzeRun(
      { target: undefined, store, checkTimeLimitMs: 10_000 },
      cluster.deps,
      quietLog(),
    );
    expect(verdict).toBe('invalid');
    const again = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResults;
    expect(again.verdict).toBe('invalid');
    expect(again.finishedAt).toBe(stored.finishedAt);
    const view = again.checker.keys.find((key) => key.view !== undefined)?.view;
    expect(existsSync(join(runDir, view!))).toBe(true);
  });

  it('--test-count runs each test in its own folder with seed + i', async () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-run-'));
    const { outcomes, exitCode } = await runLab(
      options(store, { testCount: '2', timeLimit: '1', nemesis: 'kill' }),
      fakeCluster(false).deps,
      quietLog(),
    );
    expect(exitCode).toBe(0);
    expect(outcomes.map((outcome) => outcome.results.seed)).toEqual([11, 12]);
    expect(new Set(outcomes.map((outcome) => outcome.runDir)).size).toBe(2);
    expect(outcomes[1]!.results.replayCommand).toContain('--seed 12');
  });

  it('marks the run incomplete and tears down when the cluster fails to start', async () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-run-'));
    const cluster = fakeCluster(false);
    cluster.deps.status = async () => {
      throw new RaftlabError('UNAVAILABLE', 'down');
    };
    const { exitCode, outcomes } = await runLab(
      options(store, { recoveryTimeoutMs: '300' }),
      cluster.deps,
      quietLog(),
    );
    expect(exitCode).toBe(255);
    expect(outcomes[0]!.results.verdict).toBe('incomplete');
    expect(outcomes[0]!.results.error).toMatch(/no leader/);
    expect(cluster.calls).toContain('teardown');
  });

  it('counts what an interrupted run did, checks it as a partial history, and exits 255', async () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-run-'));
    const cluster = fakeCluster(false);
    const said: string[] = [];
    const log = new LabLog({ write: (text: string) => said.push(text) });
    // Ctrl-C one second into a 10 s workload, through the handler runLab installs.
    const timer = setTimeout(() => process.emit('SIGINT', 'SIGINT'), 1000);
    const { exitCode, outcomes } = await runLab(options(store, { timeLimit: '10' }), cluster.deps, log);
    clearTimeout(timer);
    expect(exitCode).toBe(255);
    const stored = JSON.parse(readFileSync(join(outcomes[0]!.runDir, 'results.json'), 'utf8')) as RunResults;
    expect(stored.partial).toBe(true);
    expect(stored.error).toMatch(/interrupted/);
    expect(stored.finishedAt).not.toBeNull();
    expect(stored.counts.total.ok).toBeGreaterThan(50);
    expect(stored.verdict).toBe('valid');
    expect(stored.checker.keys.length).toBeGreaterThan(0);
    const printed = said.join('');
    const done = /workload done: (\d+) operations/.exec(printed);
    const { ok, fail, info } = stored.counts.total;
    expect(ok + fail + info).toBeGreaterThanOrEqual(Number(done?.[1]) - 64); // a few may have been cut off
    expect(printed).toContain(`operations: ok ${ok}, fail ${fail}, info ${info}`);
    expect(printed).toMatch(/verdict: VALID of a partial history \(interrupted/);
    expect(cluster.calls).toContain('teardown');
  });

  it('an interrupted run whose partial history is not linearizable exits 1', async () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-run-'));
    const timer = setTimeout(() => process.emit('SIGINT', 'SIGINT'), 1500);
    const { exitCode, outcomes } = await runLab(
      options(store, { timeLimit: '10', nemesis: 'none' }),
      fakeCluster(true).deps,
      quietLog(),
    );
    clearTimeout(timer);
    expect(outcomes[0]!.results.partial).toBe(true);
    expect(outcomes[0]!.results.verdict).toBe('invalid');
    expect(exitCode).toBe(1);
  });

  it("lab analyze keeps the run's own start and finish times, and a run without a finish is partial", async () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-run-'));
    const cluster = fakeCluster(false);
    const { outcomes } = await runLab(
      options(store, { nemesis: 'none', timeLimit: '1' }),
      cluster.deps,
      quietLog(),
    );
    const runDir = outcomes[0]!.runDir;
    const stored = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResults;
    const analyze = () =>
      analyzeRun({ target: runDir, store, checkTimeLimitMs: 10_000 }, cluster.deps, quietLog());
    expect((await analyze()).verdict).toBe('valid');
    let again = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResults;
    expect([again.startedAt, again.finishedAt]).toEqual([stored.startedAt, stored.finishedAt]);
    // What a SIGKILLed lab leaves: the figures and finish time of the start, verdict incomplete.
    writeFileSync(
      join(runDir, 'results.json'),
      JSON.stringify({
        ...stored,
        finishedAt: null,
        verdict: 'incomplete',
        counts: { total: { ok: 0, fail: 0, info: 0 }, byOperation: {} },
      }),
    );
    expect((await analyze()).verdict).toBe('incomplete');
    again = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResults;
    expect(again.startedAt).toBe(stored.startedAt);
    expect(again.finishedAt).toBeNull();
    expect(again.partial).toBe(true);
    expect(again.verdict).toBe('valid');
    expect(again.counts.total.ok).toBe(stored.counts.total.ok);
  });
});
