// `lab run`'s flags, one entry each in LAB_FLAGS: the flag, its help, its value type (parsed by
// commander through cli/parsers.ts), its default, whether the replay command repeats it, and the
// `lab server` flag it is handed on as. The LabOptions type, --help, parsing, the replay command
// and the servers' flags all come from this table, so adding a flag means adding one entry.
// Rules between flags are checked in options-parse.ts, also before anything starts.
import { parseServerUnsafe } from '../server/raft/unsafe.js';
import {
  decimal,
  fromLibrary,
  integer,
  listOf,
  nonEmpty,
  safeName,
  secondsAsMs,
  type FlagType,
} from '../cli/parsers.js';
import { InvalidArgumentError } from 'commander';
import {
  AIMED_FAULTS,
  FAULT_KINDS,
  TARGET_MODES,
  TARGET_MODES_OPT_IN,
  type AimedFault,
  type FaultKind,
} from './nemesis/schedule.js';
import { parseFailpoints } from '../server/failpoints/failpoints.js';
import { PARTITION_SHAPES } from './nemesis/shapes.js';
import { CLIENT_MODES, type ClientMode } from './workload/client.js';

export class BadArgumentsError extends Error {
  override readonly name = 'BadArgumentsError';
}

export type RuntimeChoice = 'docker' | 'local';

export interface LabFlag<T> {
  /** commander's flag text: '--nodes <count>'. */
  readonly flags: string;
  readonly help: string;
  readonly type: FlagType<T>;
  /** As typed on the command line; without one the value is undefined unless a rule derives it. */
  readonly default?: string;
  /** In the replay command: always, only when it differs from the default, or never. */
  readonly replay: 'always' | 'when-set' | 'never';
  /** Handed to every node's `lab server` under this flag when set. */
  readonly server?: string;
  /** Only these words (commander's own choices check). */
  readonly choices?: readonly string[];
}

function labFlag<T, D extends string | undefined = undefined>(
  spec: LabFlag<T> & { readonly default?: D },
): LabFlag<T> & { readonly default?: D } {
  return spec;
}

/** "10" clients, or "2n": two per node (resolved once --nodes is known). */
export interface ConcurrencyFlag {
  readonly count: number;
  readonly perNode: boolean;
}

const concurrencyType: FlagType<ConcurrencyFlag> = {
  parse: (text) => {
    const match = /^(\d+)(n?)$/.exec(text.trim());
    const count = match === null ? NaN : Number(match[1]);
    if (!(count >= 1 && count <= 1000))
      throw new InvalidArgumentError('expected a count (e.g. 10) or N per node (e.g. 2n), from 1 to 1000');
    return { count, perNode: match?.[2] === 'n' };
  },
  format: (value) => `${value.count}${value.perNode ? 'n' : ''}`,
};

const runtimeType: FlagType<RuntimeChoice> = {
  parse: (text) => {
    if (text !== 'docker' && text !== 'local') throw new InvalidArgumentError('expected docker or local');
    return text;
  },
  format: String,
};

const clientModeType: FlagType<ClientMode> = {
  parse: (text) => {
    if (!(CLIENT_MODES as readonly string[]).includes(text))
      throw new InvalidArgumentError(`expected one of ${CLIENT_MODES.join(', ')}`);
    return text as ClientMode;
  },
  format: String,
};

const NEMESIS_NAMES = [...FAULT_KINDS, ...AIMED_FAULTS, 'all', 'none'] as const;

export const LAB_FLAGS = {
  nodes: labFlag({
    flags: '--nodes <count>',
    help: 'cluster size',
    type: integer(1, 9),
    default: '5',
    replay: 'always',
  }),
  nemesis: labFlag({
    flags: '--nemesis <list>',
    help: `faults: comma list of ${NEMESIS_NAMES.join(', ')}`,
    type: listOf(NEMESIS_NAMES),
    default: 'partition',
    replay: 'always',
  }),
  nemesisIntervalMs: labFlag({
    flags: '--nemesis-interval <seconds>',
    help: 'mean gap between faults; each gap is drawn from [0, 2x]',
    type: secondsAsMs(0.1, 3600),
    default: '10',
    replay: 'always',
  }),
  partitionShapes: labFlag({
    flags: '--partition-shapes <list>',
    help: 'partition shapes to draw from',
    type: listOf(PARTITION_SHAPES),
    default: PARTITION_SHAPES.join(','),
    replay: 'when-set',
  }),
  faultTargets: labFlag({
    flags: '--fault-targets <list>',
    help: `kill, power and pause targets to draw from; ${TARGET_MODES_OPT_IN.join(', ')} (every node at once) is opt-in`,
    type: listOf([...TARGET_MODES, ...TARGET_MODES_OPT_IN]),
    default: TARGET_MODES.join(','),
    replay: 'when-set',
  }),
  concurrency: labFlag({
    flags: '--concurrency <n>',
    help: 'client processes: a number, or N per node as "Nn"',
    type: concurrencyType,
    default: '2n',
    replay: 'always',
  }),
  rateOpsPerSec: labFlag({
    flags: '--rate <ops>',
    help: 'total operations per second across all clients',
    type: decimal(0.1, 100_000),
    default: '100',
    replay: 'always',
  }),
  timeLimitMs: labFlag({
    flags: '--time-limit <seconds>',
    help: 'how long the workload runs',
    type: secondsAsMs(1, 86_400),
    default: '60',
    replay: 'always',
  }),
  opsPerKey: labFlag({
    flags: '--ops-per-key <n>',
    help: 'operations on a key before it is retired for a fresh one',
    type: integer(1, 100_000),
    default: '100',
    replay: 'always',
  }),
  keysActive: labFlag({
    flags: '--keys-active <n>',
    help: 'keys in play at once (default: concurrency / 4, at least 1)',
    type: integer(1, 10_000),
    replay: 'always',
  }),
  seed: labFlag({
    flags: '--seed <n>',
    help: 'seed for every random choice (default: a fresh one, printed)',
    type: integer(0, 2 ** 32 - 1),
    replay: 'never', // the replay command names the seed the run used
  }),
  testCount: labFlag({
    flags: '--test-count <n>',
    help: 'run the whole test N times, each in its own run folder',
    type: integer(1, 10_000),
    default: '1',
    replay: 'never',
  }),
  runtime: labFlag({
    flags: '--runtime <docker|local>',
    help: 'where the cluster runs (default: docker when an engine is reachable, else local)',
    type: runtimeType,
    choices: ['docker', 'local'],
    replay: 'never', // the replay command names the runtime the run used
  }),
  name: labFlag({
    flags: '--name <name>',
    help: 'run name, the folder under the store (default: from the nemesis and unsafe variants)',
    type: safeName,
    replay: 'never',
  }),
  serverUnsafe: labFlag({
    flags: '--server-unsafe <list>',
    help: "switch on deliberately broken server variants (the server's --unsafe)",
    type: fromLibrary((text) => [...parseServerUnsafe(text)]),
    default: '',
    replay: 'when-set',
    server: '--unsafe',
  }),
  electionTimeoutMs: labFlag({
    flags: '--election-timeout-ms <ms>',
    help: "the server's --election-timeout-ms",
    type: integer(1, 600_000),
    replay: 'when-set',
    server: '--election-timeout-ms',
  }),
  heartbeatIntervalMs: labFlag({
    flags: '--heartbeat-interval-ms <ms>',
    help: "the server's --heartbeat-interval-ms",
    type: integer(1, 600_000),
    replay: 'when-set',
    server: '--heartbeat-interval-ms',
  }),
  tickMs: labFlag({
    flags: '--tick-ms <ms>',
    help: "the server's --tick-ms",
    type: integer(1, 60_000),
    replay: 'when-set',
    server: '--tick-ms',
  }),
  snapshotEntries: labFlag({
    flags: '--snapshot-entries <n>',
    // Small for the lab (the server's own default is 10000), so that a normal run compacts and a
    // node cut off by a partition comes back to an InstallSnapshot.
    help: "the server's --snapshot-entries (snapshot every N applied entries; 0: never)",
    type: integer(0, 2 ** 31 - 1),
    default: '500',
    replay: 'when-set',
    server: '--snapshot-entries',
  }),
  snapshotTailEntries: labFlag({
    flags: '--snapshot-tail-entries <n>',
    help: "the server's --snapshot-tail-entries",
    type: integer(0, 2 ** 31 - 1),
    default: '100',
    replay: 'when-set',
    server: '--snapshot-tail-entries',
  }),
  snapshotChunkBytes: labFlag({
    flags: '--snapshot-chunk-bytes <n>',
    help: "the server's --snapshot-chunk-bytes",
    type: integer(1, 2 * 1024 * 1024),
    replay: 'when-set',
    server: '--snapshot-chunk-bytes',
  }),
  requestTimeoutMs: labFlag({
    flags: '--request-timeout-ms <ms>',
    help: 'client: how long one attempt waits',
    type: integer(1, 600_000),
    default: '500',
    replay: 'always',
  }),
  operationTimeoutMs: labFlag({
    flags: '--operation-timeout-ms <ms>',
    help: 'client: how long an operation may retry before it is given up as info',
    type: integer(1, 600_000),
    default: '2000',
    replay: 'always',
  }),
  clientMode: labFlag({
    flags: '--client-mode <mode>',
    help: 'client: pinned (each client talks only to its home node; NOT_LEADER is a definite fail), leader (follow redirects to the leader; reads start at the home node) or mixed (half of each)',
    type: clientModeType,
    choices: CLIENT_MODES,
    // Following the leader, so a plain run's answers measure the cluster, not NOT_LEADER refusals to
    // pinned clients (about 40% of operations at 5 nodes); the leader-aimed schedules and
    // bench:detection ask for mixed or pinned clients explicitly.
    default: 'leader',
    replay: 'always',
  }),
  clientResponseLoss: labFlag({
    flags: '--client-response-loss <fraction>',
    help: 'client: fraction of responses thrown away as if lost, so writes that took effect are retried',
    type: decimal(0, 0.9),
    default: '0',
    replay: 'when-set',
  }),
  recoveryTimeoutMs: labFlag({
    flags: '--recovery-timeout-ms <ms>',
    help: 'how long to wait for a leader at start and after healing',
    type: integer(1, 3_600_000),
    default: '30000',
    replay: 'never',
  }),
  checkTimeLimitMs: labFlag({
    flags: '--check-time-limit <seconds>',
    help: "the checker's time limit; past it a key is unknown",
    type: secondsAsMs(1, 86_400),
    default: '120',
    replay: 'never',
  }),
  failpoints: labFlag({
    flags: '--failpoints <list>',
    help: 'test-only crash points in every server: name=crash|power[@probability|#nth],... (docs/server.md)',
    // Checked now (exit 254) rather than by every server at its start.
    type: fromLibrary((text) => {
      parseFailpoints(text);
      return text.trim();
    }),
    default: '',
    replay: 'when-set',
  }),
  store: labFlag({
    flags: '--store <dir>',
    help: 'where run folders go',
    type: nonEmpty,
    default: 'histories',
    replay: 'when-set',
  }),
} as const;

export type LabFlagName = keyof typeof LAB_FLAGS;

type ValueOf<F> = F extends LabFlag<infer T> & { readonly default?: infer D }
  ? D extends string
    ? T
    : T | undefined
  : never;

/** Every flag's value, parsed, with its default applied. */
export type LabFlagValues = { -readonly [K in LabFlagName]: ValueOf<(typeof LAB_FLAGS)[K]> };

/** What a run needs: the flags' values and what the rules between flags derive from them. */
export interface LabOptions extends Omit<LabFlagValues, 'concurrency' | 'keysActive' | 'name'> {
  faultKinds: FaultKind[];
  /** Leader-aimed schedules named in --nemesis (isolate-leader, majorities-ring, pause-leader). */
  aimedFaults: AimedFault[];
  /** Client processes in all ("2n" resolved against --nodes). */
  concurrency: number;
  /** As given ("2n" or "10"), for the replay command. */
  concurrencyText: string;
  keysActive: number;
  name: string;
}

/** The flags as text, keyed like commander's attributes (timeLimit for --time-limit). */
export type RawLabOptions = Partial<Record<string, string>>;

/** commander's attribute name of a flag: '--time-limit <seconds>' -> timeLimit. */
export function attributeName(flags: string): string {
  const long = /--([a-z0-9-]+)/.exec(flags)?.[1] ?? '';
  return long.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function longFlag(flags: string): string {
  return flags.split(' ')[0] ?? flags;
}
