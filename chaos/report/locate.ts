// Which run folder a command means: a run folder itself, a run name's folder (its `latest`), or,
// with no argument, the store's latest lab run (the same one `lab analyze` picks).
import { access, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { latestRunDir } from '../store.js';

async function isRunFolder(dir: string): Promise<boolean> {
  for (const file of ['results.json', 'history.jsonl']) {
    if (
      await access(join(dir, file)).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

export async function locateRun(dir: string | undefined, store: string): Promise<string> {
  if (dir !== undefined) {
    if (await isRunFolder(dir)) return dir;
    if (await isRunFolder(join(dir, 'latest'))) return realpath(join(dir, 'latest'));
    throw new Error(`${dir} is not a run folder (no results.json or history.jsonl, and no latest link)`);
  }
  // The same run `lab analyze` picks (chaos/store.ts).
  const latest = latestRunDir(store);
  if (latest === null) throw new Error(`no runs under ${store} (run \`lab run\` first)`);
  return latest;
}
