// One `lab run` test: start a cluster, run the workload and the nemesis for the time limit, heal,
// wait for recovery, read every key, collect logs, tear down, check, and store it all in the run
// folder. Ctrl-C (the interrupt signal) takes the same way out, minus the check.
import { setMaxListeners } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readHistory } from '../checker/history.js';
import type { HistoryEvent } from '../checker/history-types.js';
import type { LabDeps } from './lab-deps.js';
import type { LabLog } from './lab-log.js';
import { waitForLeader, findLeader } from './leader.js';
import { Nemesis, type LogIndexes } from './nemesis/nemesis.js';
import { describeStep, planSchedule } from './nemesis/schedule.js';
import { replayCommand, serverArgs, serverEnv } from './options-parse.js';
import type { LabOptions } from './options.js';
import { Progress } from './progress.js';
import { forkRandom } from './random.js';
import { HistoryFileWriter, monotonicClock, Recorder } from './recorder.js';
import type { RunResults, RunVerdict } from './results-types.js';
import type { Runtime } from './runtime/types.js';
import { sleep } from './sleep.js';
import { createRunDir, HISTORY_FILE, LAB_LOG_FILE, NODE_LOG_DIR, writeResults } from './run-folder.js';
import { historyFigures } from './figures/index.js';
import { finishResults, summaryLines } from './verdict.js';
import { applyInvariantViolations } from './invariant-violations.js';
import { applySnapshotEvents } from './snapshot-events.js';
import { finalReads } from './workload/final-reads.js';
import { Workload } from './workload/workload.js';
import { count } from '../checker/plural.js';

export interface RunOutcome {
  runDir: string;
  verdict: RunVerdict;
  results: RunResults;
}

export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
}

export class LabRun {
  readonly runDir: string;
  readonly results: RunResults;
  private readonly recorder: Recorder;
  private readonly writer: HistoryFileWriter;
  private runtime: Runtime | undefined;
  private nemesis: Nemesis | undefined;
  private endpoints = new Map<string, string>();
  /** Advertised client address -> node, for operations served after a redirect (Docker). */
  private aliases = new Map<string, string>();

  constructor(
    private readonly options: LabOptions,
    readonly seed: number,
    private readonly deps: LabDeps,
    private readonly log: LabLog,
  ) {
    const startedAt = new Date();
    this.runDir = createRunDir(options.store, options.name, startedAt);
    log.attach(join(this.runDir, LAB_LOG_FILE));
    this.writer = new HistoryFileWriter(join(this.runDir, HISTORY_FILE));
    this.recorder = new Recorder(this.writer, monotonicClock());
    this.results = initialResults(options, seed, startedAt);
    // Marked in progress from the start, so `lab serve` can show a run that is still going.
    writeResults(this.runDir, this.results);
  }

  /**
   * Runs the test; resolves with the stored results. A run that did not finish (Ctrl-C, or the lab
   * failed) is marked partial and its history so far is checked all the same.
   */
  async execute(interrupt: AbortSignal): Promise<RunOutcome> {
    try {
      await this.startCluster(interrupt);
      const completed = await this.exercise(interrupt);
      await this.collectAndTeardown();
      if (!completed) throw new InterruptedError('interrupted; faults healed and the cluster torn down');
    } catch (error) {
      await this.cleanupAfterError(error);
    }
    await this.closeHistory();
    await this.check();
    applyInvariantViolations(this.results, this.runDir);
    await applySnapshotEvents(this.results, this.runDir);
    this.results.finishedAt = new Date().toISOString();
    writeResults(this.runDir, this.results);
    await this.report();
    for (const line of summaryLines(this.results, this.runDir)) this.log.say(line);
    this.log.detach();
    return { runDir: this.runDir, verdict: this.results.verdict, results: this.results };
  }

  /**
   * The check, of the whole history or of what a partial run recorded: a violation in part of a
   * history is one in the whole run, so even an interrupted run's verdict means something (stated
   * as partial). With no operation recorded there is nothing to check: incomplete.
   */
  private async check(): Promise<void> {
    const historyPath = join(this.runDir, HISTORY_FILE);
    const read = this.figuresFromDisk(historyPath);
    if (read === undefined) return;
    if (this.results.partial === true) {
      // Counted before the check, so a second Ctrl-C during it still leaves the counts on disk.
      this.results.finishedAt = new Date().toISOString();
      writeResults(this.runDir, this.results);
      if (!read.invoked) return;
    }
    try {
      await finishResults(
        this.results,
        { historyPath, eventCount: read.eventCount, runDir: this.runDir },
        this.deps,
        this.log,
        this.options.checkTimeLimitMs,
      );
    } catch (error) {
      this.log.say(`lab run: the check failed: ${(error as Error).stack ?? String(error)}`);
      this.results.verdict = 'incomplete';
      this.results.error = `the check failed: ${(error as Error).message}`;
    }
  }

  /** The figures, from the history read back (the run kept none of it in memory); undefined if unreadable. */
  private figuresFromDisk(historyPath: string): { eventCount: number; invoked: boolean } | undefined {
    let events: HistoryEvent[];
    try {
      events = readHistory(historyPath);
    } catch (error) {
      this.markUnfinished(`cannot read the history back: ${(error as Error).message}`);
      return undefined;
    }
    Object.assign(this.results, historyFigures(events));
    return { eventCount: events.length, invoked: events.some((event) => event.type === 'invoke') };
  }

  /** Writes out the buffered history; a failed write leaves the run partial (the history has a gap). */
  private async closeHistory(): Promise<void> {
    try {
      await this.writer.close();
    } catch (error) {
      this.log.say(`lab run: ${(error as Error).message}`);
      this.markUnfinished((error as Error).message);
    }
  }

  private markUnfinished(reason: string): void {
    this.results.verdict = 'incomplete';
    this.results.partial = true;
    this.results.error = reason;
  }

  /** For a second Ctrl-C: tear down now, whatever is running. */
  async teardownNow(): Promise<void> {
    await this.runtime?.teardown();
  }

  private async startCluster(interrupt: AbortSignal): Promise<void> {
    const { runtime, reason } = await this.deps.selectRuntime(this.options.runtime, {
      seed: this.seed,
      log: (message) => this.log.say(`runtime: ${message}`),
    });
    this.runtime = runtime;
    this.results.runtime = runtime.name;
    this.results.replayCommand = replayCommand(this.options, this.seed, runtime.name);
    writeResults(this.runDir, this.results);
    this.log.say(`runtime: ${runtime.name} (${reason})`);
    this.log.say(`seed: ${this.seed}`);
    this.log.say(`replay: ${this.results.replayCommand}`);
    this.log.say(`run folder: ${this.runDir}`);
    const started = performance.now();
    const handles = await untilAborted(
      runtime.start({
        runId: `${this.options.name}-${this.seed}-${process.pid}`
          .replace(/[^A-Za-z0-9-]/g, '-')
          .toLowerCase(),
        nodes: this.results.nodes,
        serverArgs: serverArgs(this.options),
        dataDir: join(this.runDir, 'data'),
        logDir: join(this.runDir, NODE_LOG_DIR),
        serverEnv: serverEnv(this.options, this.seed),
      }),
      interrupt,
    );
    this.endpoints = new Map(handles.map((handle) => [handle.id, handle.clientEndpoint]));
    this.aliases = new Map(
      handles.flatMap((h) =>
        h.advertisedClientAddress === undefined ? [] : [[h.advertisedClientAddress, h.id] as const],
      ),
    );
    const leader = await waitForLeader(this.deps, this.endpoints, this.options.recoveryTimeoutMs, interrupt);
    if (interrupt.aborted) throw new InterruptedError('interrupted while the cluster was starting');
    if (leader === null)
      throw new Error(`no leader was elected within ${this.options.recoveryTimeoutMs} ms of starting`);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    this.log.say(
      `cluster up in ${seconds}s: ${handles.map((h) => `${h.id}=${h.clientEndpoint}`).join(' ')}; leader ${leader}`,
    );
  }

  /** The workload and nemesis for the time limit, then heal, recover, and the final reads. False if interrupted. */
  private async exercise(interrupt: AbortSignal): Promise<boolean> {
    const options = this.options;
    const runtime = this.runtime as Runtime;
    const clients = this.deps.clients(this.endpoints, { ...options, seed: this.seed, aliases: this.aliases });
    const workload = new Workload(
      {
        concurrency: options.concurrency,
        rateOpsPerSec: options.rateOpsPerSec,
        opsPerKey: options.opsPerKey,
        keysActive: options.keysActive,
        opDeadlineMs: options.operationTimeoutMs + options.requestTimeoutMs + 2000,
        nodes: options.nodes,
        clientMode: options.clientMode,
      },
      clients,
      this.recorder,
      forkRandom(this.seed, 'workload'),
    );
    const steps = planSchedule(
      {
        nodes: this.results.nodes,
        kinds: options.faultKinds,
        aimed: options.aimedFaults,
        intervalMs: options.nemesisIntervalMs,
        timeLimitMs: options.timeLimitMs,
        shapes: options.partitionShapes,
        targets: options.faultTargets,
      },
      forkRandom(this.seed, 'nemesis'),
    );
    this.log.note(`fault schedule (${count(steps.length, 'fault')}):\n${steps.map(describeStep).join('\n')}`);
    this.nemesis = new Nemesis({
      runtime,
      nodes: this.results.nodes,
      recorder: this.recorder,
      findLeader: () => findLeader(this.deps, this.endpoints, 500),
      log: (message) => this.log.say(message),
      logIndexes: (node) => this.logIndexes(node),
      snapshotTailEntries: options.snapshotTailEntries,
    });
    await this.drive(workload, this.nemesis, steps, interrupt);
    await this.nemesis.healAll();
    if (options.failpoints !== '') await this.nemesis.reviveCrashed();
    this.log.say('nemesis: healed everything; waiting for a leader');
    if (interrupt.aborted) return false;
    const leader = await waitForLeader(this.deps, this.endpoints, options.recoveryTimeoutMs, interrupt);
    if (interrupt.aborted) return false;
    this.log.say(
      leader === null
        ? `no leader within ${options.recoveryTimeoutMs} ms of healing; reading anyway`
        : `recovered: leader ${leader}`,
    );
    const summary = await finalReads(workload, clients, { parallelism: 8, attemptsPerKey: 3 });
    this.log.say(
      `final reads: ${summary.read} of ${count(summary.keys, 'key')} read${summary.unread.length > 0 ? `; unread: ${summary.unread.join(',')}` : ''}`,
    );
    return !interrupt.aborted;
  }

  /** A node's log indexes through the admin status request, or null when it does not say. */
  private async logIndexes(node: string): Promise<LogIndexes | null> {
    const endpoint = this.endpoints.get(node);
    if (endpoint === undefined) return null;
    const status = await this.deps.status(endpoint, 500);
    if (status.lastIndex === undefined || status.snapshotIndex === undefined) return null;
    return { lastIndex: status.lastIndex, snapshotIndex: status.snapshotIndex };
  }

  private async drive(
    workload: Workload,
    nemesis: Nemesis,
    steps: Parameters<Nemesis['run']>[0],
    interrupt: AbortSignal,
  ): Promise<void> {
    const stop = new AbortController();
    // Every worker and fault step sleeps on this signal: more listeners than Node's warning level.
    setMaxListeners(0, stop.signal);
    const onInterrupt = () => stop.abort();
    interrupt.addEventListener('abort', onInterrupt, { once: true });
    const timer = setTimeout(() => stop.abort(), this.options.timeLimitMs);
    const progress = new Progress(
      this.log,
      { counters: workload.counters, faults: () => nemesis.inForce() },
      this.options.timeLimitMs,
    );
    const origin = performance.now();
    progress.start();
    try {
      // A failing fault (the runtime erred) stops the clients too; both settle before the way out.
      const settled = await Promise.allSettled([
        workload.run(stop.signal),
        nemesis.run(steps, origin, stop.signal).catch((error: unknown) => {
          stop.abort();
          throw error;
        }),
        // A node killed by one of its own --failpoints comes back like a killed one.
        this.options.failpoints === '' ? Promise.resolve() : nemesis.reviveCrashedUntil(stop.signal, 1000),
      ]);
      for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
    } finally {
      clearTimeout(timer);
      interrupt.removeEventListener('abort', onInterrupt);
      progress.stop();
    }
    const { invoked, ok, fail, info } = workload.counters;
    this.log.say(
      `workload done: ${count(invoked, 'operation')} (ok ${ok}, fail ${fail}, info ${info}); ${count(nemesis.faultsStarted, 'fault')}`,
    );
  }

  private async collectAndTeardown(): Promise<void> {
    const runtime = this.runtime;
    if (runtime === undefined) return;
    try {
      mkdirSync(join(this.runDir, NODE_LOG_DIR), { recursive: true });
      const logs = await runtime.collectLogs(join(this.runDir, NODE_LOG_DIR));
      this.results.nodeLogs = Object.fromEntries(
        Object.entries(logs).map(([node, path]) => [node, relativeTo(this.runDir, path)]),
      );
    } catch (error) {
      this.log.say(`could not collect node logs: ${(error as Error).message}`);
    }
    const started = performance.now();
    await runtime.teardown();
    this.log.say(`torn down in ${((performance.now() - started) / 1000).toFixed(1)}s`);
    this.runtime = undefined;
  }

  /** Heal (bounded: the teardown removes the faults anyway), collect logs, tear down, record why. */
  private async cleanupAfterError(error: unknown): Promise<void> {
    const interrupted = error instanceof InterruptedError;
    this.log.say(
      interrupted
        ? `lab run: ${(error as Error).message}`
        : `lab run failed: ${(error as Error).stack ?? String(error)}`,
    );
    if (this.nemesis !== undefined && this.runtime !== undefined) {
      await Promise.race([this.nemesis.healAll().catch(() => undefined), sleep(5000)]);
    }
    await this.collectAndTeardown().catch((teardownError: unknown) =>
      this.log.say(`teardown failed: ${(teardownError as Error).message}`),
    );
    this.markUnfinished(interrupted ? (error as Error).message : String((error as Error).message ?? error));
  }

  private async report(): Promise<void> {
    if (this.deps.writeReport === undefined) return;
    try {
      const path = await this.deps.writeReport(this.runDir);
      this.log.say(`report: ${path}`);
    } catch (error) {
      this.log.say(`could not write the report: ${(error as Error).message}`);
    }
  }
}

function initialResults(options: LabOptions, seed: number, startedAt: Date): RunResults {
  const nodes = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  return {
    name: options.name,
    startedAt: startedAt.toISOString(),
    finishedAt: null,
    verdict: 'incomplete',
    replayCommand: replayCommand(options, seed, options.runtime ?? 'local'),
    seed,
    runtime: options.runtime ?? 'local',
    options: { ...options },
    nodes,
    nemesis: [...options.nemesis],
    counts: { total: { ok: 0, fail: 0, info: 0 }, byOperation: {} },
    latencyMs: {},
    availability: { duringFaults: null, outsideFaults: null, overall: null },
    faults: [],
    checker: { verdict: 'unknown', elapsedMs: 0, keys: [] },
    nodeLogs: {},
  };
}

/** Rejects with InterruptedError when the signal aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new InterruptedError('interrupted while the cluster was starting'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function relativeTo(base: string, path: string): string {
  return path.startsWith(`${base}/`) ? path.slice(base.length + 1) : path;
}
