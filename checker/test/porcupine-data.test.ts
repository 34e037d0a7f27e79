// Porcupine's public histories must get the verdicts Porcupine's own tests assert (EXPECTED.tsv).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PORCUPINE_DATA_DIR as data, porcupineDataMissing } from '../../test-support/porcupine-data.js';
import { checkHistory } from '../check.js';
import { loadHistory } from '../readers/index.js';

const fixtures = join(import.meta.dirname, 'fixtures');

function expectedRows(): { file: string; family: string; ops: number; expected: string }[] {
  const lines = readFileSync(join(data, 'EXPECTED.tsv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [file, family, ops, expected] = line.split('\t') as [string, string, string, string];
    return { file, family, ops: Number(ops), expected };
  });
}

describe('Porcupine histories in checker/test/porcupine-data', () => {
  it('the data folder is there (the suite depends on it)', () => {
    const missing = porcupineDataMissing();
    expect(missing, missing).toBeUndefined();
  });

  const rows = porcupineDataMissing() === undefined ? expectedRows() : [];
  it.each(rows)('$file is $expected', ({ file, family, expected, ops }) => {
    const history = loadHistory(join(data, file));
    expect(history.format).toBe(family === 'kv' ? 'porcupine-kv' : 'jepsen-etcd');
    const result = checkHistory(history.events, { model: history.model });
    expect(result.verdict).toBe(expected);
    // EXPECTED.tsv counts operations as Porcupine does (every invocation, failed ones included).
    const invocations = history.events.filter((e) => e.type === 'invoke').length;
    expect(invocations).toBe(ops);
  });
});

describe('Porcupine fixtures copied into checker/test/fixtures', () => {
  it.each([
    ['c01-bad.txt', 'illegal'],
    ['c01-ok.txt', 'ok'],
    ['etcd_000.log', 'illegal'],
    ['etcd_002.log', 'ok'],
    ['etcd_040.log', 'illegal'],
  ])('%s is %s, with a counterexample for an illegal one', (file, expected) => {
    const history = loadHistory(join(fixtures, file));
    const result = checkHistory(history.events, { model: history.model });
    expect(result.verdict).toBe(expected);
    for (const key of result.keys.filter((k) => k.verdict === 'illegal')) {
      const first = key.counterexample!.partials[0]!;
      expect(first.blocked.length).toBeGreaterThan(0);
      expect(key.counterexample!.linearized).toBeLessThan(key.operations);
    }
  });
});
