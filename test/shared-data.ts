// Where the tests and the checker bench find Porcupine's histories: checker/test/porcupine-data in
// the repository (a copy of Porcupine's MIT-licensed test_data subset, see its README.md), or
// RAFTLAB_PORCUPINE_DATA for another copy. The suite fails rather than skips without it, so a
// broken checkout cannot lose those tests silently.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const PORCUPINE_DATA_DIR =
  process.env['RAFTLAB_PORCUPINE_DATA'] ??
  join(import.meta.dirname, '..', 'checker', 'test', 'porcupine-data');

export function porcupineDataMissing(): string | undefined {
  if (existsSync(join(PORCUPINE_DATA_DIR, 'EXPECTED.tsv'))) return undefined;
  return `Porcupine's histories are not at ${PORCUPINE_DATA_DIR} (no EXPECTED.tsv): they ship in checker/test/porcupine-data; RAFTLAB_PORCUPINE_DATA, when set, must name such a folder`;
}
