// Bytes of every file under a directory, for the snapshot tests and bench:snapshots (data
// directories are measured while the node writes, so files may vanish between listing and stat).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    try {
      total += entry.isDirectory() ? dirBytes(path) : statSync(path).size;
    } catch {
      // deleted while we looked (a released segment, a renamed temp file)
    }
  }
  return total;
}
