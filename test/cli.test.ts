import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labPiped } from '../test-support/lab-process.js';

/** Bad arguments: exit 254 with the given message, no stack trace, quickly (nothing started). */
function expectBadArguments(result: Awaited<ReturnType<typeof labPiped>>, message: RegExp): void {
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.status).toBe(254);
}

describe('the lab command line', () => {
  it('rejects an unknown flag with a clear error and exit code 254', async () => {
    expectBadArguments(await labPiped(['--no-such-flag']), /unknown option '--no-such-flag'/);
  });

  it('lists its commands in --help and prints its version, exiting 0', async () => {
    const [help, version] = await Promise.all([labPiped(['--help']), labPiped(['--version'])]);
    expect(help.status).toBe(0);
    for (const command of ['run', 'sim', 'check', 'server', 'kv', 'serve'])
      expect(help.stdout).toContain(command);
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version.stdout).toBe(`${pkg.version}\n`);
    expect(version.status).toBe(0);
  });
});

describe('lab run refuses bad flags before anything starts', () => {
  it.each([
    [
      ['--election-timeout-ms', '50', '--heartbeat-interval-ms', '100'],
      /lab run: .*election timeout \(50 ms\) must be longer than the heartbeat interval \(100 ms\)/,
    ],
    [['--name', '../../x'], /option '--name <name>' argument '..\/..\/x' is invalid/],
    [
      ['--nodes', '2', '--concurrency', '600n', '--nemesis', 'none,kill'],
      /--nemesis none cannot[^]*600n means 1200 clients/,
    ],
  ])('%j: exit 254, one line per problem, no run folder', async (args, message) => {
    const store = mkdtempSync(join(tmpdir(), 'lab-flags-'));
    const result = await labPiped(['run', ...args, '--runtime', 'local', '--store', store]);
    expectBadArguments(result, message);
    expect(readdirSync(store)).toEqual([]);
    expect(result.elapsedMs).toBeLessThan(20_000); // it used to start a cluster first
  });

  it('refuses a --store that is a regular file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lab-flags-')), 'store');
    writeFileSync(file, '');
    expectBadArguments(
      await labPiped(['run', '--store', file]),
      /lab run: --store .* is a file, not a folder/,
    );
  });
});

describe('lab server refuses what it cannot serve before creating its data directory', () => {
  it.each([
    [['--id', 'n9', '--cluster', 'n1=127.0.0.1:20001/20002'], /--id n9 is not in the cluster \(n1\)/],
    [
      ['--id', 'n1', '--cluster', 'n1=127.0.0.1:20001/20001'],
      /127.0.0.1:20001 is both n1's client port and n1's peer port/,
    ],
    [
      [
        '--id',
        'n1',
        '--cluster',
        'n1=127.0.0.1:20001/20002',
        '--election-timeout-ms',
        '50',
        '--heartbeat-interval-ms',
        '100',
      ],
      /election timeout \(50 ms\) must be longer than the heartbeat interval \(100 ms\)/,
    ],
  ])('%j: exit 254', async (args, message) => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'lab-server-flags-')), 'data');
    expectBadArguments(await labPiped(['server', ...args, '--data-dir', dataDir]), message);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('names a --data-dir that is a file as such (not "EEXIST: mkdir")', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lab-server-flags-')), 'data');
    writeFileSync(file, '');
    const result = await labPiped([
      'server',
      '--id',
      'n1',
      '--cluster',
      'n1=127.0.0.1:20001/20002',
      '--data-dir',
      file,
    ]);
    expectBadArguments(result, /--data-dir .* is a file, not a folder/);
  });
});

describe('lab kv endpoints', () => {
  it('names the bad endpoint, refuses URLs at once, and accepts [::1]:port', async () => {
    const [bad, url, ipv6] = await Promise.all([
      labPiped(['kv', '--endpoints', '127.0.0.1:7001,nonsense', 'get', 'k']),
      labPiped(['kv', '--endpoints', 'http://127.0.0.1:7001', 'get', 'k']),
      // Port 1 on ::1 refuses the connection: a definite failure (exit 1), not bad arguments.
      labPiped(['kv', '--endpoints', '[::1]:1', '--timeout-ms', '300', 'get', 'k']),
    ]);
    expectBadArguments(bad, /bad endpoint "nonsense"/);
    expectBadArguments(url, /bad endpoint "http:\/\/127.0.0.1:7001": give HOST:PORT, not a URL/);
    expect(url.elapsedMs).toBeLessThan(20_000);
    expect(ipv6.stderr).toMatch(/\[::1\]:1/);
    expect(ipv6.status).toBe(1);
  });
});

describe('--help of every command', () => {
  it('shows defaults as typed, never quoted (lab sim showed (default: "all"))', async () => {
    const commands = [
      ['run'],
      ['sim'],
      ['check'],
      ['server'],
      ['kv'],
      ['serve'],
      ['show'],
      ['analyze'],
      ['cluster', 'start'],
    ];
    const helps = await Promise.all(commands.map((command) => labPiped([...command, '--help'])));
    for (const [i, help] of helps.entries()) {
      expect(help.status, commands[i]!.join(' ')).toBe(0);
      expect(help.stdout, commands[i]!.join(' ')).not.toMatch(/default: "/);
    }
    expect(helps[1]!.stdout).toMatch(/--faults <list>[^]*\(default: all\)/);
  });
});
