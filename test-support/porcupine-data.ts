// Where the tests and the checker bench find Porcupine's histories: ../shared/porcupine-data beside
// the project (every developer and CI machine has it there), or RAFTLAB_PORCUPINE_DATA for a clone
// kept elsewhere. The suite fails rather than skips without it, so CI cannot lose it silently.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const PORCUPINE_DATA_DIR =
  process.env['RAFTLAB_PORCUPINE_DATA'] ?? join(import.meta.dirname, '..', '..', 'shared', 'porcupine-data');

export function porcupineDataMissing(): string | undefined {
  if (existsSync(join(PORCUPINE_DATA_DIR, 'EXPECTED.tsv'))) return undefined;
  return `Porcupine's histories are not at ${PORCUPINE_DATA_DIR} (no EXPECTED.tsv): keep the clone beside ../shared, or set RAFTLAB_PORCUPINE_DATA to the porcupine-data folder`;
}
