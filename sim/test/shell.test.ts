// The simulator runs the node shell (server/node/shell.ts), the code the real server's driver
// runs: its policies show in a simulated run, so changing them changes what the simulator sees.
// (The shell's unsafe variant send-before-persist is caught in unsafe.test.ts.)
import { describe, expect, it } from 'vitest';
import { defaultSimOptions } from '../config.js';
import { runSimulation } from '../simulation.js';

describe('the simulator runs the node shell', () => {
  it("answers a deposed leader's pending writes as indeterminate, and the history stays linearizable", () => {
    const run = runSimulation(defaultSimOptions({ seed: 3, nodes: 5, ops: 400, trace: true }));
    expect(run.summary.violation).toBeUndefined();
    expect(run.summary.linearizability).toBe('ok');
    const lines = run.trace.lines;
    const at = lines.findIndex((l) => /lost leadership in term \d+; failing [1-9]\d* pending writes/.test(l));
    expect(at, 'no leader lost office with writes pending').toBeGreaterThan(-1);
    const [, node, count] =
      /(n\d+) lost leadership .* failing (\d+) pending writes/.exec(lines[at] ?? '') ?? [];
    const answers = lines.slice(at + 1, at + 1 + Number(count));
    expect(answers).toHaveLength(Number(count));
    for (const line of answers)
      expect(line).toMatch(new RegExp(`${node} -> c\\d+ #\\d+ NOT_LEADER indeterminate`));
  });
});
