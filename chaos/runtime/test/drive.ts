// A stand-in for `lab run` in the teardown tests: starts a cluster, prints "READY <json>", and waits.
// On SIGINT it tears down like the lab's Ctrl-C handler; a SIGKILL leaves the cluster for `lab down`.
// Usage: node --import tsx drive.ts local|docker RUN_ID BASE_DIR
import { join } from 'node:path';
import { setInterval } from 'node:timers';
import { createRuntime } from '../select.js';
import { standInCommand } from './helpers.js';
import { STAND_IN_COMMAND } from './stand-in-image.js';

const [kind, runId, baseDir] = process.argv.slice(2);
if ((kind !== 'local' && kind !== 'docker') || runId === undefined || baseDir === undefined) {
  process.stderr.write('usage: drive.ts local|docker RUN_ID BASE_DIR\n');
  process.exit(254);
}
// Docker: the test passes the stand-in image it built (RAFTLAB_TEST_IMAGE).
const runtime = createRuntime(
  kind,
  kind === 'local'
    ? { serverCommand: standInCommand() }
    : { image: process.env.RAFTLAB_TEST_IMAGE, containerCommand: STAND_IN_COMMAND },
);
process.once('SIGINT', () => {
  void runtime.teardown().then(() => {
    process.stdout.write('TORN DOWN\n');
    process.exit(130);
  });
});
const handles = await runtime.start({
  runId,
  nodes: ['n1', 'n2', 'n3'],
  serverArgs: [],
  dataDir: join(baseDir, 'data'),
  logDir: join(baseDir, 'logs'),
});
process.stdout.write(`READY ${JSON.stringify(handles)}\n`);
setInterval(() => undefined, 60_000);
