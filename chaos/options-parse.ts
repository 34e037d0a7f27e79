// Turns the raw flags into LabOptions (see options.ts for the shapes and the per-flag checks).
import { SERVER_UNSAFE_VARIANTS } from '../server/raft/unsafe.js';
import { parseFailpoints } from '../server/failpoints/failpoints.js';
import { FAULT_KINDS, TARGET_MODES, TARGET_MODES_OPT_IN, type TargetMode } from './nemesis/schedule.js';
import { PARTITION_SHAPES, type PartitionShape } from './nemesis/shapes.js';
import {
  BadArgumentsError,
  faultKindsOf,
  FLAG_DEFAULTS,
  listFlag,
  numberFlag,
  optionalNumberFlag,
  parseConcurrency,
  type LabOptions,
  type RawLabOptions,
  type RuntimeChoice,
} from './options.js';

export function parseLabOptions(raw: RawLabOptions): LabOptions {
  const nodes = numberFlag(raw, 'nodes', 1, 9);
  const nemesis = listFlag(raw, 'nemesis', FAULT_KINDS, ['all', 'none']);
  if (nemesis.length === 0)
    throw new BadArgumentsError(
      `--nemesis needs at least one of ${[...FAULT_KINDS, 'all', 'none'].join(', ')}`,
    );
  const runtime = (raw.runtime ?? '').trim();
  if (runtime !== '' && runtime !== 'docker' && runtime !== 'local') {
    throw new BadArgumentsError(`--runtime must be docker or local, got "${runtime}"`);
  }
  const concurrencyText = (raw.concurrency ?? FLAG_DEFAULTS.concurrency).trim();
  const concurrency = parseConcurrency(concurrencyText, nodes);
  const seedText = (raw.seed ?? '').trim();
  const timeLimitMs = numberFlag(raw, 'timeLimit', 1, 86_400) * 1000;
  const serverUnsafe = listFlag(raw, 'serverUnsafe', SERVER_UNSAFE_VARIANTS);
  const faultKinds = faultKindsOf(nemesis);
  const partitionShapes = listFlag(raw, 'partitionShapes', PARTITION_SHAPES) as PartitionShape[];
  const faultTargets = listFlag(raw, 'faultTargets', [
    ...TARGET_MODES,
    ...TARGET_MODES_OPT_IN,
  ]) as TargetMode[];
  if (partitionShapes.length === 0)
    throw new BadArgumentsError('--partition-shapes needs at least one shape');
  if (faultTargets.length === 0) throw new BadArgumentsError('--fault-targets needs at least one target');
  return {
    nodes,
    nemesis,
    faultKinds,
    nemesisIntervalMs: numberFlag(raw, 'nemesisInterval', 0.1, 3600, false) * 1000,
    partitionShapes,
    faultTargets,
    concurrency,
    concurrencyText,
    rateOpsPerSec: numberFlag(raw, 'rate', 0.1, 100_000, false),
    timeLimitMs,
    opsPerKey: numberFlag(raw, 'opsPerKey', 1, 100_000),
    keysActive: optionalNumberFlag(raw, 'keysActive', 1, 10_000) ?? Math.max(1, Math.ceil(concurrency / 4)),
    seed: seedText === '' ? undefined : numberFlag(raw, 'seed', 0, 2 ** 32 - 1),
    testCount: numberFlag(raw, 'testCount', 1, 10_000),
    runtime: runtime === '' ? undefined : (runtime as RuntimeChoice),
    name: (raw.name ?? '').trim() || defaultName(nemesis, serverUnsafe),
    serverUnsafe,
    electionTimeoutMs: optionalNumberFlag(raw, 'electionTimeoutMs', 1, 600_000),
    heartbeatIntervalMs: optionalNumberFlag(raw, 'heartbeatIntervalMs', 1, 600_000),
    tickMs: optionalNumberFlag(raw, 'tickMs', 1, 60_000),
    requestTimeoutMs: numberFlag(raw, 'requestTimeoutMs', 1, 600_000),
    operationTimeoutMs: numberFlag(raw, 'operationTimeoutMs', 1, 600_000),
    clientResponseLoss: numberFlag(raw, 'clientResponseLoss', 0, 0.9, false),
    checkTimeLimitMs: numberFlag(raw, 'checkTimeLimit', 1, 86_400) * 1000,
    recoveryTimeoutMs: numberFlag(raw, 'recoveryTimeoutMs', 1, 3_600_000),
    store: (raw.store ?? FLAG_DEFAULTS.store).trim() || FLAG_DEFAULTS.store,
    failpoints: checkedFailpoints(raw.failpoints ?? ''),
  };
}

/** The --failpoints text, checked now (exit 254) rather than by every server at start. */
function checkedFailpoints(text: string): string {
  try {
    parseFailpoints(text);
  } catch (error) {
    throw new BadArgumentsError(`--failpoints: ${(error as Error).message}`);
  }
  return text.trim();
}

/** partition, kill-pause, partition-unsafe-stale-leader-read. */
export function defaultName(nemesis: readonly string[], unsafe: readonly string[]): string {
  const base = nemesis.join('-');
  return unsafe.length === 0 ? base : `${base}-unsafe-${unsafe.join('-')}`;
}

/** The command that replays a run: the same options, with the run's seed. */
export function replayCommand(options: LabOptions, seed: number, runtime: string): string {
  const parts = [
    'lab run',
    `--nodes ${options.nodes}`,
    `--nemesis ${options.nemesis.join(',')}`,
    `--nemesis-interval ${options.nemesisIntervalMs / 1000}`,
    `--concurrency ${options.concurrencyText}`,
    `--rate ${options.rateOpsPerSec}`,
    `--time-limit ${options.timeLimitMs / 1000}`,
    `--ops-per-key ${options.opsPerKey}`,
    `--keys-active ${options.keysActive}`,
    `--request-timeout-ms ${options.requestTimeoutMs}`,
    `--operation-timeout-ms ${options.operationTimeoutMs}`,
    `--runtime ${runtime}`,
  ];
  if (options.partitionShapes.join(',') !== FLAG_DEFAULTS.partitionShapes)
    parts.push(`--partition-shapes ${options.partitionShapes.join(',')}`);
  if (options.faultTargets.join(',') !== FLAG_DEFAULTS.faultTargets)
    parts.push(`--fault-targets ${options.faultTargets.join(',')}`);
  if (options.clientResponseLoss > 0) parts.push(`--client-response-loss ${options.clientResponseLoss}`);
  if (options.serverUnsafe.length > 0) parts.push(`--server-unsafe ${options.serverUnsafe.join(',')}`);
  if (options.electionTimeoutMs !== undefined)
    parts.push(`--election-timeout-ms ${options.electionTimeoutMs}`);
  if (options.heartbeatIntervalMs !== undefined)
    parts.push(`--heartbeat-interval-ms ${options.heartbeatIntervalMs}`);
  if (options.tickMs !== undefined) parts.push(`--tick-ms ${options.tickMs}`);
  if (options.store !== FLAG_DEFAULTS.store) parts.push(`--store ${options.store}`);
  if (options.failpoints !== '') parts.push(`--failpoints '${options.failpoints}'`);
  parts.push(`--seed ${seed}`);
  return parts.join(' ');
}

/** Test-only environment for every server: power cuts only when the power nemesis runs. */
export function serverEnv(options: LabOptions, seed: number): Record<string, string> {
  const env: Record<string, string> = {};
  if (options.faultKinds.includes('power')) env.RAFTLAB_LOSE_UNSYNCED = '1';
  if (options.failpoints !== '') {
    env.RAFTLAB_FAILPOINTS = options.failpoints;
    env.RAFTLAB_FAILPOINTS_SEED = String(seed);
  }
  return env;
}

/** Flags for `lab server` on every node. */
export function serverArgs(options: LabOptions): string[] {
  const args: string[] = [];
  if (options.serverUnsafe.length > 0) args.push('--unsafe', options.serverUnsafe.join(','));
  if (options.electionTimeoutMs !== undefined)
    args.push('--election-timeout-ms', String(options.electionTimeoutMs));
  if (options.heartbeatIntervalMs !== undefined)
    args.push('--heartbeat-interval-ms', String(options.heartbeatIntervalMs));
  if (options.tickMs !== undefined) args.push('--tick-ms', String(options.tickMs));
  return args;
}
