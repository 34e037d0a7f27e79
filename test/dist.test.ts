// dist/ holds what users run: the build (tsconfig.build.json) compiles no test, test helper, fixture
// or screenshot script. Asks tsc for the build's own file list, so a stale dist/ cannot hide a leak
// and a fresh one need not exist.
import { execFileSync } from 'node:child_process';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const TEST_CODE = [
  /\.test\.ts$/,
  /(^|\/)test\//,
  /(^|\/)test-support\//,
  /(^|\/)scripts\//,
  /(^|\/)bench\//,
  /fixtures?\//,
  /screenshot/,
  /synthetic/,
];

function buildInputs(): string[] {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const out = execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--listFilesOnly'], {
    cwd: root,
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((line) => line !== '' && !line.includes(`${sep}node_modules${sep}`))
    .map((file) => relative(root, file).split(sep).join('/'));
}

describe('the build', () => {
  it('compiles the parts users run and no test, fixture or screenshot code', () => {
    const inputs = buildInputs();
    expect(inputs).toContain('cli/main.ts');
    expect(inputs).toContain('chaos/report/index.ts');
    expect(inputs.filter((file) => TEST_CODE.some((pattern) => pattern.test(file)))).toEqual([]);
  });
});
