import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const lab = join(import.meta.dirname, '..', 'bin', 'lab.js');

describe('the lab command line', () => {
  it('rejects an unknown flag with a clear error and exit code 254', () => {
    const result = spawnSync(process.execPath, [lab, '--no-such-flag'], { encoding: 'utf8' });
    expect(result.status).toBe(254);
    expect(result.stderr).toContain("unknown option '--no-such-flag'");
  });

  it('lists its commands in --help and exits 0', () => {
    const result = spawnSync(process.execPath, [lab, '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    for (const command of ['run', 'sim', 'check', 'server', 'kv', 'serve'])
      expect(result.stdout).toContain(command);
  });
});
