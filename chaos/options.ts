// `lab run`'s options: parsed and checked here (the CLI only hands over strings), so every bad
// flag is a clear message and exit 254 before anything starts.
import {
  FAULT_KINDS,
  FAULT_KINDS_IN_ALL,
  TARGET_MODES,
  type FaultKind,
  type TargetMode,
} from './nemesis/schedule.js';
import { PARTITION_SHAPES, type PartitionShape } from './nemesis/shapes.js';

export class BadArgumentsError extends Error {
  override readonly name = 'BadArgumentsError';
}

export type RuntimeChoice = 'docker' | 'local';

export interface LabOptions {
  nodes: number;
  /** The nemesis names as given (for the run's name and the replay command). */
  nemesis: string[];
  faultKinds: FaultKind[];
  nemesisIntervalMs: number;
  partitionShapes: PartitionShape[];
  faultTargets: TargetMode[];
  concurrency: number;
  /** As given ("2n" or "10"), for the replay command. */
  concurrencyText: string;
  rateOpsPerSec: number;
  timeLimitMs: number;
  opsPerKey: number;
  keysActive: number;
  seed: number | undefined;
  testCount: number;
  runtime: RuntimeChoice | undefined;
  name: string;
  serverUnsafe: string[];
  electionTimeoutMs: number | undefined;
  heartbeatIntervalMs: number | undefined;
  tickMs: number | undefined;
  requestTimeoutMs: number;
  operationTimeoutMs: number;
  /** Fraction of responses the lab's clients discard as lost, forcing retries (0 = none). */
  clientResponseLoss: number;
  checkTimeLimitMs: number;
  recoveryTimeoutMs: number;
  store: string;
  /** RAFTLAB_FAILPOINTS for every server ('' = none), e.g. wal-after-write-before-fsync=crash@0.01. */
  failpoints: string;
}

/** The flags as commander hands them over: strings, or undefined when absent. */
export type RawLabOptions = Partial<Record<keyof typeof FLAG_DEFAULTS, string>>;

export const FLAG_DEFAULTS = {
  nodes: '5',
  nemesis: 'partition',
  nemesisInterval: '10',
  partitionShapes: PARTITION_SHAPES.join(','),
  faultTargets: TARGET_MODES.join(','),
  concurrency: '2n',
  rate: '100',
  timeLimit: '60',
  opsPerKey: '100',
  keysActive: '',
  seed: '',
  testCount: '1',
  runtime: '',
  name: '',
  serverUnsafe: '',
  electionTimeoutMs: '',
  heartbeatIntervalMs: '',
  tickMs: '',
  requestTimeoutMs: '500',
  operationTimeoutMs: '2000',
  clientResponseLoss: '0',
  checkTimeLimit: '120',
  recoveryTimeoutMs: '30000',
  store: 'histories',
  failpoints: '',
} as const;

function flag(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export function numberFlag(
  raw: RawLabOptions,
  key: keyof RawLabOptions,
  min: number,
  max: number,
  integer = true,
): number {
  const text = (raw[key] ?? FLAG_DEFAULTS[key]).trim();
  const value = Number(text);
  if (
    text === '' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    value < min ||
    value > max
  ) {
    const kind = integer ? 'an integer' : 'a number';
    throw new BadArgumentsError(`${flag(key)} must be ${kind} from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

export function optionalNumberFlag(
  raw: RawLabOptions,
  key: keyof RawLabOptions,
  min: number,
  max: number,
): number | undefined {
  return (raw[key] ?? '').trim() === '' ? undefined : numberFlag(raw, key, min, max);
}

export function listFlag<T extends string>(
  raw: RawLabOptions,
  key: keyof RawLabOptions,
  valid: readonly T[],
  extra: readonly string[] = [],
): string[] {
  const names = (raw[key] ?? FLAG_DEFAULTS[key])
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!(valid as readonly string[]).includes(name) && !extra.includes(name)) {
      throw new BadArgumentsError(
        `${flag(key)}: unknown "${name}"; valid: ${[...valid, ...extra].join(', ')}`,
      );
    }
  }
  return names;
}

/** `all` means every kind; `none` means no faults (and cannot be mixed with others). */
export function faultKindsOf(nemesis: readonly string[]): FaultKind[] {
  if (nemesis.includes('none')) {
    if (nemesis.length > 1)
      throw new BadArgumentsError('--nemesis none cannot be combined with other faults');
    return [];
  }
  const all = nemesis.includes('all');
  return FAULT_KINDS.filter((kind) => nemesis.includes(kind) || (all && FAULT_KINDS_IN_ALL.includes(kind)));
}

/** "10" or "2n" (two per node). */
export function parseConcurrency(text: string, nodes: number): number {
  const match = /^(\d+)(n?)$/.exec(text.trim());
  const count = match === null ? NaN : Number(match[1]) * (match[2] === 'n' ? nodes : 1);
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw new BadArgumentsError(
      `--concurrency must be a count (e.g. 10) or N per node (e.g. 2n), from 1 to 1000 in all; got "${text}"`,
    );
  }
  return count;
}
