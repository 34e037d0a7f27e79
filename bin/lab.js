#!/usr/bin/env node
// The `lab` command: runs the compiled CLI (npm ci builds it through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('lab: the project is not built yet; run `npm run build` (npm ci does it too)\n');
  process.exit(255);
}
await import(main);
