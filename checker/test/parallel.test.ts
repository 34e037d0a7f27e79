// checkHistoryParallel gives the same verdicts as checkHistory, with workers started both from the
// TypeScript sources (here, under vitest) and from the compiled dist/ (after `npm run build`).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../check.js';
import { checkHistoryParallel } from '../parallel.js';
import { loadHistory } from '../readers/index.js';
import { skipBecause } from '../../test/skip.js';

const fixture = loadHistory(join(import.meta.dirname, 'fixtures', 'c01-bad.txt'));
const options = { model: fixture.model };
const strip = (r: Awaited<ReturnType<typeof checkHistoryParallel>>) =>
  r.keys.map((k) => ({ key: k.key, verdict: k.verdict, operations: k.operations, cx: k.counterexample }));

describe('checkHistoryParallel', () => {
  it('splits keys over worker threads (TypeScript sources) and agrees with checkHistory', async () => {
    const parallel = await checkHistoryParallel(fixture.events, { ...options, workers: 2, force: true });
    const serial = checkHistory(fixture.events, options);
    expect(parallel.verdict).toBe('illegal');
    expect(strip(parallel)).toEqual(strip(serial));
  });

  it('falls back to one thread for a small history', async () => {
    const result = await checkHistoryParallel(fixture.events, options);
    expect(result.verdict).toBe('illegal');
  });

  const dist = join(import.meta.dirname, '..', '..', 'dist', 'checker', 'parallel.js');
  const distMissing = existsSync(dist) ? undefined : `${dist} is missing (run npm run build)`;
  it.skipIf(skipBecause('the compiled checker test', distMissing))(
    'works from the compiled dist/ too (needs npm run build)',
    async () => {
      const compiled = (await import(pathToFileURL(dist).href)) as {
        checkHistoryParallel: typeof checkHistoryParallel;
      };
      const result = await compiled.checkHistoryParallel(fixture.events, {
        ...options,
        workers: 2,
        force: true,
      });
      expect(strip(result)).toEqual(strip(checkHistory(fixture.events, options)));
    },
  );
});
