// The import boundaries of eslint.config.js hold: a forbidden import added to a part fails the lint,
// and the same file without it passes. Files are linted as text under a path inside each part (no
// file is written), exactly as `npm run lint` would lint them there.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

const CASES: readonly { part: string; file: string; forbidden: string }[] = [
  {
    part: 'the Raft core',
    file: 'server/raft/probe.ts',
    forbidden: "import { Driver } from '../driver/driver.js';",
  },
  {
    part: 'the Raft core',
    file: 'server/raft/probe.ts',
    forbidden: "import { openWal } from '../storage/index.js';",
  },
  {
    part: 'the Raft core',
    file: 'server/raft/probe.ts',
    forbidden: "import { NodeShell } from '../node/shell.js';",
  },
  {
    part: 'the Raft core',
    file: 'server/raft/probe.ts',
    forbidden: "import { runSimulation } from '../../sim/simulation.js';",
  },
  {
    part: 'the Raft core',
    file: 'server/raft/probe.ts',
    forbidden: "import { readFileSync } from 'node:fs';",
  },
  {
    part: 'the state machine',
    file: 'server/kv/probe.ts',
    forbidden: "import { PeerTransport } from '../transport/peer-transport.js';",
  },
  {
    part: 'the state machine',
    file: 'server/kv/probe.ts',
    forbidden: "import { main } from '../../cli/main.js';",
  },
  {
    part: 'the node shell',
    file: 'server/node/probe.ts',
    forbidden: "import { Driver } from '../driver/driver.js';",
  },
  {
    part: 'the node shell',
    file: 'server/node/probe.ts',
    forbidden: "import { createServer } from 'node:net';",
  },
  { part: 'the checker', file: 'checker/probe.ts', forbidden: "import { runLab } from '../chaos/run.js';" },
  {
    part: 'the checker',
    file: 'checker/probe.ts',
    forbidden: "import { RaftlabClient } from '../client/index.js';",
  },
  {
    part: 'the checker',
    file: 'checker/probe.ts',
    forbidden: "import { startServer } from '../server/server.js';",
  },
  {
    part: 'the client',
    file: 'client/probe.ts',
    forbidden: "import { startServer } from '../server/server.js';",
  },
];

describe('the lint boundaries', () => {
  it.each(CASES)('$part may not: $forbidden', async ({ file, forbidden }) => {
    const code = `${forbidden}\nexport const probe = [${forbidden.match(/import \{ (\w+) \}/)?.[1]}];\n`;
    const found = await problems(file, code);
    expect(found.some((p) => p.startsWith('no-restricted-imports'))).toBe(true);
    expect(await problems(file, 'export const probe = 1;\n')).toEqual([]);
  });

  it.each([
    ['server/raft/probe.ts', "import type { Entry } from './types.js';"],
    ['server/raft/probe.ts', "import type { ErrorInfo } from '../../shared/errors.js';"],
    ['server/node/probe.ts', "import type { RaftNode } from '../raft/node.js';"],
    ['client/probe.ts', "import type { Envelope } from '../proto/codec.js';"],
    ['sim/probe.ts', "import type { NodeShell } from '../server/node/shell.js';"],
  ])('lets %s %s', async (file, allowed) => {
    const name = allowed.match(/\{ (\w+) \}/)?.[1];
    expect(await problems(file, `${allowed}\nexport type Probe = ${name};\n`)).toEqual([]);
  });

  it('keeps the core free of clocks and timers', async () => {
    expect(await problems('server/raft/probe.ts', 'export const now = Date.now();\n')).toEqual([
      "no-restricted-properties: 'Date.now' is restricted from being used. Time is ticks in the core.",
    ]);
    expect(await problems('server/node/probe.ts', 'setTimeout(() => undefined, 1);\n')).toHaveLength(1);
  });
});
