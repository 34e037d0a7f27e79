// Named crash points in the server (in the spirit of etcd's gofail): compiled in, inert unless the
// lab turns them on through RAFTLAB_FAILPOINTS. When none is on, a failpoint costs one boolean
// check, so the hot paths (every WAL round) pay nothing measurable.
//
// RAFTLAB_FAILPOINTS="name=action[@probability|#nth],..." with action `crash` (the process dies at
// once: SIGKILL to itself, so no further write, flush or answer leaves it; the kernel keeps what was
// written, as after a process crash) or `power` (drop every write not yet fsynced, then die: see
// power.ts). `@0.05` fires on each hit with that probability, drawn from RAFTLAB_FAILPOINTS_SEED
// (printed at start); `#3` fires on the third hit; neither fires on the first hit.
import { createRng, type SeededRng } from '../raft/rng.js';

export const FAILPOINT_NAMES = [
  /** A WAL round's records are written (page cache) but not yet fsynced. */
  'wal-after-write-before-fsync',
  /** A WAL round is fsynced; nobody was told yet (no vote, ack or answer left). */
  'wal-after-fsync-before-ack',
  /** A new segment file was created; the directory entry is not yet synced. */
  'wal-segment-created-before-dir-sync',
  /** A vote is durable; the vote message has not been sent. */
  'after-vote-persisted',
  /** A snapshot's temp file is written and fsynced; it is not yet renamed to its name. */
  'snapshot-before-rename',
  /** A snapshot is durable (renamed, directory synced); no WAL segment was released yet. */
  'snapshot-after-rename-before-release',
  /** Releasing the WAL after a snapshot: fires after each segment file deleted (#n picks one). */
  'wal-release-mid',
] as const;
export type FailpointName = (typeof FAILPOINT_NAMES)[number];

export type FailpointAction = 'crash' | 'power';

interface Armed {
  readonly action: FailpointAction;
  readonly probability: number | undefined;
  readonly nth: number | undefined;
  hits: number;
}

/** A bad RAFTLAB_FAILPOINTS value, or failpoints asked for outside the lab. */
export class FailpointConfigError extends Error {
  override readonly name = 'FailpointConfigError';
}

/** The env variable the lab's runtimes set; failpoints and power cuts are refused without it. */
export const LAB_RUN_ENV = 'RAFTLAB_LAB_RUN_ID';

let enabled = false;
const armed = new Map<FailpointName, Armed>();
let rng: SeededRng = createRng(1);
let powerCut: (() => void) | undefined;

/** Called at the named point; dies there when the lab armed it. One boolean check when off. */
export function failpoint(name: FailpointName): void {
  if (!enabled) return;
  hit(name);
}

function hit(name: FailpointName): void {
  const point = armed.get(name);
  if (point === undefined) return;
  point.hits++;
  const fires =
    point.nth !== undefined
      ? point.hits === point.nth
      : point.probability === undefined || rng.next() < point.probability;
  if (!fires) return;
  process.stderr.write(`failpoint ${name}: ${point.action} (hit ${point.hits})\n`);
  if (point.action === 'power' && powerCut !== undefined) powerCut();
  dieNow();
}

/** SIGKILL to itself: nothing after this line runs, no buffered write is flushed. */
export function dieNow(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL did not end the process');
}

/** What a `power` failpoint does before dying (set by power.ts once the WAL is open). */
export function setPowerCut(cut: (() => void) | undefined): void {
  powerCut = cut;
}

/** Parses "a=crash@0.1,b=power#2"; throws FailpointConfigError naming what is wrong. */
export function parseFailpoints(text: string): Map<FailpointName, Armed> {
  const result = new Map<FailpointName, Armed>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const match = /^([a-z-]+)=(crash|power)(?:@([0-9.]+)|#(\d+))?$/.exec(item);
    if (match === null)
      throw new FailpointConfigError(`bad failpoint "${item}": expected name=crash|power[@p|#n]`);
    const name = match[1] as FailpointName;
    if (!FAILPOINT_NAMES.includes(name))
      throw new FailpointConfigError(`unknown failpoint "${name}"; known: ${FAILPOINT_NAMES.join(', ')}`);
    const probability = match[3] === undefined ? undefined : Number(match[3]);
    if (probability !== undefined && !(probability > 0 && probability <= 1))
      throw new FailpointConfigError(`failpoint ${name}: probability must be in (0, 1], got ${match[3]}`);
    const nth = match[4] === undefined ? undefined : Number(match[4]);
    if (nth !== undefined && nth < 1) throw new FailpointConfigError(`failpoint ${name}: #n must be >= 1`);
    result.set(name, { action: match[2] as FailpointAction, probability, nth, hits: 0 });
  }
  return result;
}

/**
 * Arms the failpoints named in env.RAFTLAB_FAILPOINTS. Refuses (FailpointConfigError) when they
 * are asked for but the process was not started by the lab (no RAFTLAB_LAB_RUN_ID): a production
 * start that inherited the variable must not crash itself on purpose. Returns a line to log.
 */
export function armFailpoints(env: NodeJS.ProcessEnv): string | undefined {
  const text = env.RAFTLAB_FAILPOINTS ?? '';
  armed.clear();
  enabled = false;
  if (text.trim() === '') return undefined;
  if ((env[LAB_RUN_ENV] ?? '') === '')
    throw new FailpointConfigError(
      `RAFTLAB_FAILPOINTS is set but ${LAB_RUN_ENV} is not: failpoints are for lab runs only; unset it`,
    );
  const seedText = env.RAFTLAB_FAILPOINTS_SEED ?? '1';
  const seed = Number(seedText);
  if (!Number.isSafeInteger(seed))
    throw new FailpointConfigError(`bad RAFTLAB_FAILPOINTS_SEED "${seedText}"`);
  for (const [name, point] of parseFailpoints(text)) armed.set(name, point);
  rng = createRng(seed);
  enabled = armed.size > 0;
  return `FAILPOINTS armed (lab run ${env[LAB_RUN_ENV]}): ${text} (seed ${seed})`;
}
