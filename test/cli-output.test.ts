// Output through a pipe arrives whole: `lab kv get` of a value larger than a pipe buffer (64 KiB)
// used to deliver 65,536 bytes and exit 0, and its --json was cut mid-string.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../server/local-cluster.js';
import { removeTestCluster, startTestCluster, testClient } from '../test-support/cluster.js';
import { labPiped } from '../test-support/lab-process.js';

const VALUE_BYTES = 120_000;

describe('lab kv through a pipe', () => {
  let cluster: LocalCluster | undefined;
  const value = 'v'.repeat(VALUE_BYTES);

  beforeAll(async () => {
    cluster = await startTestCluster(3);
    const client = testClient(cluster);
    try {
      await client.put('big', value);
    } finally {
      client.close();
    }
  }, 120_000);

  afterAll(() => removeTestCluster(cluster));

  it('delivers a 120,000-byte value in full, then exits 0', async () => {
    const result = await labPiped(['kv', '--endpoints', cluster!.endpoints.join(','), 'get', 'big']);
    expect(result.stderr).toBe('');
    expect(result.stdoutBytes).toBe(VALUE_BYTES + 1);
    expect(result.stdout).toBe(`${value}\n`);
    expect(result.status).toBe(0);
  });

  it('prints valid JSON holding the whole value with --json', async () => {
    const result = await labPiped([
      'kv',
      '--endpoints',
      cluster!.endpoints.join(','),
      '--json',
      'get',
      'big',
    ]);
    expect(result.status).toBe(0);
    const json = JSON.parse(result.stdout) as { ok: boolean; value: string };
    expect(json.ok).toBe(true);
    expect(json.value).toHaveLength(VALUE_BYTES);
  });
});
