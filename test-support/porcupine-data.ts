// Where the tests and the checker bench find Porcupine's histories: RAFTLAB_PORCUPINE_DATA when set;
// else checker/test/porcupine-data when the repo ships it; else ../shared/porcupine-data beside the
// project (every developer and CI machine has it there until the repo ships its own copy). The suite
// fails rather than skips without it, so CI cannot lose it silently.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const IN_REPO = join(import.meta.dirname, '..', 'checker', 'test', 'porcupine-data');
const BESIDE_REPO = join(import.meta.dirname, '..', '..', 'shared', 'porcupine-data');

export const PORCUPINE_DATA_DIR =
  process.env['RAFTLAB_PORCUPINE_DATA'] ??
  (existsSync(join(IN_REPO, 'EXPECTED.tsv')) ? IN_REPO : BESIDE_REPO);

export function porcupineDataMissing(): string | undefined {
  if (existsSync(join(PORCUPINE_DATA_DIR, 'EXPECTED.tsv'))) return undefined;
  return `Porcupine's histories are not at ${PORCUPINE_DATA_DIR} (no EXPECTED.tsv): ship them in checker/test/porcupine-data, keep the clone beside ../shared, or set RAFTLAB_PORCUPINE_DATA to the porcupine-data folder`;
}
