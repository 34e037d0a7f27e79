// Vitest global set-up: every test run gets its own temporary root, removed when the run ends.
// Tests (and the servers, labs and containers they start) make their folders with
// mkdtemp(os.tmpdir()); pointing TMPDIR at one root here cleans them all up in one place instead
// of leaving hundreds of folders in /tmp after each run. The test workers are forked after this
// runs, so they inherit the variable.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const previous = process.env['TMPDIR'];
  const root = mkdtempSync(join(tmpdir(), 'raftlab-tests-'));
  process.env['TMPDIR'] = root;
  return () => {
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
    // Keep the folder when asked, to look at what a failing test left behind.
    if (process.env['RAFTLAB_KEEP_TEST_TMP'] === undefined) rmSync(root, { recursive: true, force: true });
  };
}
