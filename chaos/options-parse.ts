// Turns `lab run`'s flag values into LabOptions: the rules between flags (election timeout longer
// than the heartbeat, `none` alone, "2n" against --nodes, the store a folder), all checked before
// anything starts and reported together, one line per problem.
import { CommanderError } from 'commander';
import { folderProblem } from '../cli/parsers.js';
import { serverTimingProblem } from '../cli/server-timing.js';
import { AIMED_FAULTS, FAULT_KINDS, FAULT_KINDS_IN_ALL, type FaultKind } from './nemesis/schedule.js';
import {
  attributeName,
  BadArgumentsError,
  LAB_FLAGS,
  longFlag,
  type LabFlag,
  type LabFlagName,
  type LabFlagValues,
  type LabOptions,
  type RawLabOptions,
} from './options.js';

const FLAG_NAMES = Object.keys(LAB_FLAGS) as LabFlagName[];

function spec(name: LabFlagName): LabFlag<unknown> {
  return LAB_FLAGS[name] as LabFlag<unknown>;
}

/** commander's parsed options (keyed by attribute) to flag values, defaults applied. */
export function labFlagValues(parsed: Readonly<Record<string, unknown>>): LabFlagValues {
  const values: Record<string, unknown> = {};
  for (const name of FLAG_NAMES) {
    const flag = spec(name);
    const given = parsed[attributeName(flag.flags)];
    values[name] = given ?? (flag.default === undefined ? undefined : flag.type.parse(flag.default));
  }
  return values as LabFlagValues;
}

/** The same from text (tests and library callers): each value through its flag's own type. */
export function parseLabOptions(raw: RawLabOptions): LabOptions {
  const parsed: Record<string, unknown> = {};
  for (const name of FLAG_NAMES) {
    const flag = spec(name);
    const text = raw[attributeName(flag.flags)];
    if (text === undefined) continue;
    if (flag.choices !== undefined && !flag.choices.includes(text))
      throw new BadArgumentsError(
        `${longFlag(flag.flags)} must be one of ${flag.choices.join(', ')}, got "${text}"`,
      );
    try {
      parsed[attributeName(flag.flags)] = flag.type.parse(text);
    } catch (error) {
      if (!(error instanceof CommanderError)) throw error;
      throw new BadArgumentsError(`${longFlag(flag.flags)} "${text}": ${error.message}`);
    }
  }
  return resolveLabOptions(labFlagValues(parsed));
}

/** Applies the rules between flags; throws one BadArgumentsError naming every problem. */
export function resolveLabOptions(values: LabFlagValues): LabOptions {
  const problems: string[] = [];
  const faultKinds = faultKindsOf(values.nemesis, problems);
  const concurrency = values.concurrency.count * (values.concurrency.perNode ? values.nodes : 1);
  if (concurrency > 1000)
    problems.push(
      `--concurrency ${LAB_FLAGS.concurrency.type.format(values.concurrency)} means ${concurrency} clients; at most 1000`,
    );
  // The servers would refuse these timings; say so now instead of after starting a cluster.
  const timing = serverTimingProblem(values);
  if (timing !== undefined) problems.push(`--election-timeout-ms and --heartbeat-interval-ms: ${timing}`);
  // The store may not exist yet (it is created), but must not be a file or under one.
  const store = folderProblem('--store', values.store);
  if (store !== undefined) problems.push(store);
  if (problems.length > 0) throw new BadArgumentsError(problems.join('\n'));
  return {
    ...values,
    faultKinds,
    aimedFaults: AIMED_FAULTS.filter((aimed) => values.nemesis.includes(aimed)),
    concurrency,
    concurrencyText: LAB_FLAGS.concurrency.type.format(values.concurrency),
    keysActive: values.keysActive ?? Math.max(1, Math.ceil(concurrency / 4)),
    name: values.name ?? defaultName(values.nemesis, values.serverUnsafe),
  };
}

/** Things that are allowed but probably not what was meant. */
export function labWarnings(options: LabOptions): string[] {
  if (options.nodes >= 3 || options.faultKinds.length + options.aimedFaults.length === 0) return [];
  const nodes = options.nodes === 1 ? 'one node tolerates' : 'two nodes tolerate';
  return [
    `${nodes} no fault (a majority of ${options.nodes} is ${options.nodes}): every fault stops progress; use --nodes 3 or more to see Raft ride out faults`,
  ];
}

/** `all` means every kind; `none` means no faults (and cannot be mixed with others). */
function faultKindsOf(nemesis: readonly string[], problems: string[]): FaultKind[] {
  if (nemesis.includes('none')) {
    if (nemesis.length > 1) problems.push('--nemesis none cannot be combined with other faults');
    return [];
  }
  // `all` is the faults every run can take; power and clock are asked for by name.
  const all = nemesis.includes('all');
  return FAULT_KINDS.filter((kind) => nemesis.includes(kind) || (all && FAULT_KINDS_IN_ALL.includes(kind)));
}

/** partition, kill-pause, partition-unsafe-stale-leader-read. */
export function defaultName(nemesis: readonly string[], unsafe: readonly string[]): string {
  const base = nemesis.join('-');
  return unsafe.length === 0 ? base : `${base}-unsafe-${unsafe.join('-')}`;
}

/** A flag's value as typed, or undefined when the replay command leaves it out. */
function replayText(name: LabFlagName, options: LabOptions): string | undefined {
  const flag = spec(name);
  if (flag.replay === 'never') return undefined;
  // LabOptions holds the resolved client count; the replay repeats it as typed ("2n").
  const value = name === 'concurrency' ? flag.type.parse(options.concurrencyText) : options[name];
  if (value === undefined) return undefined;
  const text = flag.type.format(value);
  const isDefault = flag.default !== undefined && text === flag.type.format(flag.type.parse(flag.default));
  return flag.replay === 'when-set' && isDefault ? undefined : text;
}

/** The command that replays a run: the same options, with the run's seed and runtime. */
export function replayCommand(options: LabOptions, seed: number, runtime: string): string {
  const parts = ['lab run'];
  for (const name of FLAG_NAMES) {
    const text = replayText(name, options);
    if (text !== undefined) parts.push(`${longFlag(spec(name).flags)} ${text}`);
  }
  parts.push(`--runtime ${runtime}`, `--seed ${seed}`);
  return parts.join(' ');
}

/** Flags for `lab server` on every node. */
/** The environment every server starts with: the test-only power-cut hook and failpoints. */
export function serverEnv(options: LabOptions, seed: number): Record<string, string> {
  const env: Record<string, string> = {};
  if (options.faultKinds.includes('power')) env['RAFTLAB_LOSE_UNSYNCED'] = '1';
  if (options.failpoints !== '') {
    env['RAFTLAB_FAILPOINTS'] = options.failpoints;
    env['RAFTLAB_FAILPOINTS_SEED'] = String(seed);
  }
  return env;
}

/** Flags for `lab server` on every node. */
export function serverArgs(options: LabOptions): string[] {
  const args: string[] = [];
  for (const name of FLAG_NAMES) {
    const flag = spec(name);
    const value = options[name];
    if (flag.server === undefined || value === undefined) continue;
    const text = flag.type.format(value);
    if (text !== '') args.push(flag.server, text);
  }
  return args;
}
