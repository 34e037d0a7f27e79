// Builds (or finds) the Docker images the lab runs: the offline base and the server image. For CI
// and first-time setup: `npx tsx chaos/runtime/build-images.ts` (needs `npm run build` first).
// Exit 0 with the image names, 1 naming what failed, 2 when no Docker engine answers.
import { exitFlushed } from '../../cli/exit.js';
import { ensureServerImage } from './docker/server-image.js';
import { connectEngine, engineAddress, probeEngine } from './docker/engine.js';

const docker = connectEngine();
const problem = await probeEngine(docker);
if (problem !== undefined) {
  process.stderr.write(`build-images: no Docker engine at ${engineAddress()} (${problem})\n`);
  await exitFlushed(2);
}
const started = performance.now();
try {
  const image = await ensureServerImage(docker, (message) =>
    process.stderr.write(`build-images: ${message}\n`),
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`build-images: ${image} ready in ${seconds} s\n`);
} catch (error) {
  process.stderr.write(`build-images: ${(error as Error).message}\n`);
  await exitFlushed(1);
}
