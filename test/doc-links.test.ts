// Every link in the project's Markdown points at something that exists: relative links
// [text](path) and file names quoted as code (`docs/wire-protocol.md`, `proto/raftlab.proto`),
// resolved from the document's folder and from the repository root. (docs/server.md once sent
// readers to `docs/wire.md`, which never existed.)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', 'histories', 'porcupine-data', '.git']);

function markdownFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (SKIPPED_FOLDERS.has(name) || name.startsWith('.')) continue;
    if (statSync(path).isDirectory()) files.push(...markdownFiles(path));
    else if (name.endsWith('.md')) files.push(path);
  }
  return files;
}

/** Link targets in a document: relative Markdown links, and code spans that name a repository file. */
export function linkTargets(text: string): string[] {
  const targets: string[] = [];
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const path = target!.split('#')[0]!;
    if (path !== '' && !/^[a-z]+:/i.test(path)) targets.push(path);
  }
  // Only paths from the repository root with a known extension: `histories/<name>/x.json` and
  // files a run writes are examples, not links.
  const quoted =
    /`((?:docs|proto|server|client|checker|chaos|sim|cli|bench|scripts|docker|test)\/[\w./-]+\.(?:md|ts|proto|js|json))`/g;
  for (const [, path] of text.matchAll(quoted)) targets.push(path!);
  return targets;
}

describe('documentation links', () => {
  const files = markdownFiles(ROOT);

  it('finds the documents', () => {
    expect(files.map((f) => relative(ROOT, f))).toEqual(
      expect.arrayContaining(['README.md', 'docs/server.md']),
    );
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))('%s links only to files that exist', (_, file) => {
    const broken = linkTargets(readFileSync(file, 'utf8')).filter(
      (target) => !existsSync(join(dirname(file), target)) && !existsSync(join(ROOT, target)),
    );
    expect(broken).toEqual([]);
  });

  it('catches a link to a missing file', () => {
    expect(
      linkTargets('see `docs/wire.md` and [the lab](docs/lab.md#flags), not [x](https://e.org)'),
    ).toEqual(['docs/lab.md', 'docs/wire.md']);
  });
});
