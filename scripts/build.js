// Build: generate the static protobuf code from proto/raftlab.proto (only when the .proto is newer),
// then compile TypeScript to dist/ and copy the generated JavaScript beside it.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const proto = join(root, 'proto/raftlab.proto');
const genDir = join(root, 'proto/generated');
const genJs = join(genDir, 'raftlab.js');
const genDts = join(genDir, 'raftlab.d.ts');
const bin = (name) => join(root, 'node_modules/protobufjs-cli/bin', name);

function run(file, args) {
  execFileSync(process.execPath, [file, ...args], { cwd: root, stdio: 'inherit' });
}

const stale = !existsSync(genJs) || !existsSync(genDts) || statSync(genJs).mtimeMs < statSync(proto).mtimeMs;
if (stale) {
  mkdirSync(genDir, { recursive: true });
  // --force-number shapes the generated types as numbers; the static decoder may still yield Long
  // objects when the `long` package is present, so proto/codec.ts converts (terms and indexes < 2^53).
  run(bin('pbjs'), [
    '-t',
    'static-module',
    '-w',
    'es6',
    '--force-number',
    '--no-delimited',
    '--no-verify',
    '-o',
    genJs,
    proto,
  ]);
  run(bin('pbts'), ['-o', genDts, genJs]);
}
run(join(root, 'node_modules/typescript/bin/tsc'), ['-p', join(root, 'tsconfig.build.json')]);
mkdirSync(join(root, 'dist/proto/generated'), { recursive: true });
copyFileSync(genJs, join(root, 'dist/proto/generated/raftlab.js'));
