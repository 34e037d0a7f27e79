// `lab kv`: talk to a raftlab cluster from the shell. Human output by default, --json for scripts.
// Exit codes: 0 ok, 3 key not found (get, delete), 4 cas mismatch, 5 indeterminate (the operation
// may have happened), 1 any other failure (definitely did not happen), 254 bad arguments.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { createClient, RaftlabError, type RaftlabClient } from '../../client/index.js';
import type { NodeStatusReport } from '../../client/index.js';
import { splitEndpoint } from '../../client/connection.js';
import { badArguments } from '../bad-arguments.js';
import { exitFlushed } from '../exit.js';
import { EXIT_BAD_ARGUMENTS } from '../exit-codes.js';
import { fromLibrary, integer, option } from '../parsers.js';

export const EXIT_KV_FAILED = 1;
export const EXIT_KV_NOT_FOUND = 3;
export const EXIT_KV_CAS_MISMATCH = 4;
export const EXIT_KV_INDETERMINATE = 5;

interface KvFlags {
  /** Not mandatory to commander: `kv snapshot --endpoint` names its one node instead. */
  endpoints?: string[];
  json?: boolean;
  timeoutMs: number;
  connectTimeoutMs: number;
}

/** host:port,... ; each checked now, so a typo is named at once rather than timing out later. */
const endpointList = fromLibrary((text) => {
  const endpoints = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  if (endpoints.length === 0) throw new Error('expected HOST:PORT[,HOST:PORT...]');
  for (const endpoint of endpoints) splitEndpoint(endpoint);
  return endpoints;
});

type Output = { human: string; json: Record<string, unknown>; exitCode: number };

export function register(program: Command): void {
  const kv = program
    .command('kv')
    .description('talk to a raftlab cluster: get, put, delete, cas, append, status, snapshot')
    .addOption(
      option(
        '--endpoints <list>',
        'client addresses host:port,host:port,... ([::1]:7001 for IPv6)',
        endpointList,
      ),
    )
    .option('--json', 'print one JSON object instead of human text')
    .addOption(
      option(
        '--timeout-ms <ms>',
        'give up after this long (retries included)',
        integer(1, 3_600_000),
        '10000',
      ),
    )
    .addOption(
      option(
        '--connect-timeout-ms <ms>',
        'give up sooner when no endpoint accepts a connection for this long',
        integer(1, 3_600_000),
        '2000',
      ),
    );
  const endpoints = (): string[] =>
    kv.opts<KvFlags>().endpoints ?? badArguments(kv, "required option '--endpoints <list>' not specified");
  const run =
    (fn: (c: RaftlabClient) => Promise<Output>, to: string[] = endpoints()) =>
    async () =>
      runWith(kv.opts<KvFlags>(), to, fn);
  kv.command('get <key>')
    .description('linearizable read')
    .action((key: string) => run((c) => get(c, key))());
  const putCommand: Command = kv
    .command('put <key> [value]')
    .description('set the value (from the argument, or --value-file for large or binary values)')
    .option('--value-file <path>', "read the value from this file ('-' for stdin)")
    .action((key: string, value: string | undefined, opts: { valueFile?: string }) => {
      const bytes = putValue(putCommand, value, opts.valueFile);
      return run((c) => put(c, key, bytes))();
    });
  kv.command('delete <key>').action((key: string) => run((c) => del(c, key))());
  kv.command('append <key> <value>')
    .description('append to the value; prints the value after the append')
    .action((key: string, value: string) => run((c) => append(c, key, value))());
  kv.command('cas <key> <values...>')
    .usage('[--expect-absent] <key> <old> <new> | --expect-absent <key> <new>')
    .description('set NEW if the value is OLD (or, with --expect-absent, if the key does not exist)')
    .option('--expect-absent', 'succeed only if the key is absent (omit OLD)')
    .action((key: string, values: string[], opts: { expectAbsent?: boolean }) =>
      casArgumentsOk(values, opts.expectAbsent === true)
        ? run((c) => cas(c, key, values, opts.expectAbsent === true))()
        : badArguments(kv, 'cas: give KEY OLD NEW, or --expect-absent KEY NEW'),
    );
  kv.command('status')
    .description("each node's role, term, commit, applied and snapshot index, WAL size, and the leader")
    .action(() => run(status)());
  const snapshotCommand: Command = kv
    .command('snapshot')
    .description('one node snapshots its state machine now and compacts its log; waits until durable')
    .addOption(
      option('--endpoint <host:port>', 'the node (default: the only one in --endpoints)', endpointList),
    )
    .action((opts: { endpoint?: string[] }) => {
      const node = opts.endpoint ?? kv.opts<KvFlags>().endpoints;
      if (node?.length !== 1) return badArguments(snapshotCommand, 'give one node: --endpoint HOST:PORT');
      return run((c) => snapshot(c, node[0]!, kv.opts<KvFlags>().timeoutMs), node)();
    });
}

const SNAPSHOT_POLL_MS = 50;

/** Asks for a snapshot, then polls that node's status until it is durable (or the timeout). */
async function snapshot(c: RaftlabClient, endpoint: string, timeoutMs: number): Promise<Output> {
  const startedMs = performance.now();
  const asked = await c.snapshot(endpoint);
  if (!asked.started) {
    const human = `${endpoint}: no new snapshot (one is being saved, or nothing applied since index ${asked.snapshotIndex})`;
    return ok(human, { endpoint, started: false, snapshotIndex: asked.snapshotIndex });
  }
  for (;;) {
    const s = await c.status(endpoint);
    const ms = Math.round(performance.now() - startedMs);
    if (s.snapshotIndex >= asked.appliedIndex) {
      const human = `${s.nodeId}: snapshot at index ${s.snapshotIndex} durable after ${ms} ms; WAL ${s.walBytes} bytes in ${s.walSegments} segments`;
      return ok(human, { endpoint, started: true, ...s, waitedMs: ms });
    }
    if (ms > timeoutMs)
      throw new RaftlabError(
        'TIMEOUT',
        `${endpoint}: snapshot through index ${asked.appliedIndex} started but not durable after ${ms} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, SNAPSHOT_POLL_MS));
  }
}

function ok(human: string, json: Record<string, unknown>): Output {
  return { human, json: { ok: true, ...json }, exitCode: 0 };
}

async function get(c: RaftlabClient, key: string): Promise<Output> {
  const value = await c.get(key);
  if (value === null)
    return { human: `(not found)`, json: { ok: true, key, found: false }, exitCode: EXIT_KV_NOT_FOUND };
  return ok(value, { key, found: true, value });
}

/** The value to put, from exactly one of the argument and --value-file; a bad path is a bad argument. */
function putValue(
  command: Command,
  value: string | undefined,
  valueFile: string | undefined,
): string | Uint8Array {
  if ((value === undefined) === (valueFile === undefined))
    badArguments(command, 'give KEY VALUE, or KEY --value-file PATH (- for stdin)');
  if (valueFile === undefined) return value!;
  try {
    return readFileSync(valueFile === '-' ? 0 : valueFile);
  } catch (error) {
    return badArguments(command, `cannot read --value-file ${valueFile}: ${(error as Error).message}`);
  }
}

async function put(c: RaftlabClient, key: string, value: string | Uint8Array): Promise<Output> {
  await c.put(key, value);
  return ok('OK', typeof value === 'string' ? { key, value } : { key, valueBytes: value.length });
}

async function del(c: RaftlabClient, key: string): Promise<Output> {
  const existed = await c.delete(key);
  if (!existed)
    return { human: '(not found)', json: { ok: true, key, existed }, exitCode: EXIT_KV_NOT_FOUND };
  return ok('deleted', { key, existed });
}

async function append(c: RaftlabClient, key: string, value: string): Promise<Output> {
  const after = await c.append(key, value);
  return ok(after, { key, value: after });
}

function casArgumentsOk(values: readonly string[], expectAbsent: boolean): boolean {
  return values.length === (expectAbsent ? 1 : 2);
}

async function cas(c: RaftlabClient, key: string, values: string[], expectAbsent: boolean): Promise<Output> {
  const expected = expectAbsent ? null : values[0]!;
  const value = values[values.length - 1]!;
  await c.cas(key, expected, value);
  return ok('OK', { key, expected, value });
}

async function status(c: RaftlabClient): Promise<Output> {
  const reports = await c.clusterStatus();
  const reachable = reports.filter((r) => r.status);
  const leaders = [
    ...new Set(reachable.filter((r) => r.status!.role === 'leader').map((r) => r.status!.nodeId)),
  ];
  // A leader that did not answer here (down, or refusing this connection) may still be known to
  // its followers: say so rather than "(none)".
  const reported = [...new Set(reachable.map((r) => r.status!.leaderId).filter((id) => id !== ''))];
  const heard = leaders.length === 0 && reported.length === 1 ? reported[0] : undefined;
  const leaderLine =
    leaders.join(', ') || (heard ? `${heard} (as its followers report; it did not answer here)` : '(none)');
  const human = `${statusTable(reports)}\nleader: ${leaderLine}`;
  const json = {
    leader: leaders[0] ?? null,
    ...(heard ? { reportedLeader: heard } : {}),
    nodes: reports.map((r) =>
      r.status ? { endpoint: r.endpoint, ...r.status } : { endpoint: r.endpoint, error: r.error?.message },
    ),
  };
  return {
    human,
    json: { ok: reachable.length > 0, ...json },
    exitCode: reachable.length > 0 ? 0 : EXIT_KV_FAILED,
  };
}

function statusTable(reports: readonly NodeStatusReport[]): string {
  const header = [
    'NODE',
    'ENDPOINT',
    'ROLE',
    'TERM',
    'LEADER',
    'COMMIT',
    'APPLIED',
    'LAST',
    'SNAPSHOT',
    'WAL',
  ];
  const rows = reports.map((r) => {
    const s = r.status;
    if (!s) return ['?', r.endpoint, `unreachable: ${r.error?.code ?? ''}`, '', '', '', '', '', '', ''];
    return [
      s.nodeId,
      r.endpoint,
      s.role,
      s.term,
      s.leaderId || '-',
      s.commitIndex,
      s.appliedIndex,
      s.lastIndex,
      s.snapshotIndex || '-',
      `${s.walBytes} B/${s.walSegments} seg`,
    ].map(String);
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function errorOutput(error: RaftlabError): Output {
  const exitCode =
    error.code === 'CAS_MISMATCH'
      ? EXIT_KV_CAS_MISMATCH
      : error.code === 'KEY_NOT_FOUND'
        ? EXIT_KV_NOT_FOUND
        : error.definite
          ? EXIT_KV_FAILED
          : EXIT_KV_INDETERMINATE;
  const verdict = error.definite ? 'definitely failed' : 'MAY HAVE HAPPENED (indeterminate)';
  return {
    human: `error ${error.message} [${verdict}]`,
    json: { ok: false, code: error.code, message: error.message, definite: error.definite },
    exitCode,
  };
}

async function runWith(
  flags: KvFlags,
  endpoints: string[],
  fn: (c: RaftlabClient) => Promise<Output>,
): Promise<void> {
  let client: RaftlabClient;
  try {
    client = createClient({
      endpoints,
      operationTimeoutMs: flags.timeoutMs,
      requestTimeoutMs: Math.min(2000, flags.timeoutMs),
      connectTimeoutMs: Math.min(1000, flags.connectTimeoutMs),
      unreachableTimeoutMs: flags.connectTimeoutMs,
    });
  } catch (error) {
    process.stderr.write(`lab kv: ${(error as Error).message}\n`);
    return exitFlushed(EXIT_BAD_ARGUMENTS);
  }
  let out: Output;
  try {
    out = await fn(client);
  } catch (error) {
    out = errorOutput(error instanceof RaftlabError ? error : new RaftlabError('INTERNAL', String(error)));
  } finally {
    client.close();
  }
  const text = flags.json ? JSON.stringify(out.json) : out.human;
  (out.exitCode === 0 || out.exitCode === EXIT_KV_NOT_FOUND ? process.stdout : process.stderr).write(
    `${text}\n`,
  );
  // The client may keep a timer or socket alive a moment longer; exit now, once the output is out.
  await exitFlushed(out.exitCode);
}
