import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../report/index.js';
import { writeSyntheticRun, type SyntheticRun } from '../../test-support/synthetic-run.js';
import { startServe, type RunningServe } from './server.js';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-STORE';
let root: string;
let store: string;
let run: SyntheticRun;
let live: SyntheticRun;
let server: RunningServe;

/** A raw GET: node:http sends the path verbatim (fetch and URL would normalise `..` away). */
function get(path: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** File names and sizes from a zip's central directory (enough to check what went in). */
function zipEntries(zip: Buffer): Map<string, number> {
  const entries = new Map<string, number>();
  for (
    let i = zip.indexOf(Buffer.from([0x50, 0x4b, 1, 2]));
    i >= 0;
    i = zip.indexOf(Buffer.from([0x50, 0x4b, 1, 2]), i + 4)
  ) {
    const nameLength = zip.readUInt16LE(i + 28);
    entries.set(zip.subarray(i + 46, i + 46 + nameLength).toString('utf8'), zip.readUInt32LE(i + 24));
  }
  return entries;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'raftlab-serve-'));
  store = join(root, 'histories');
  await mkdir(join(root, 'outside'), { recursive: true });
  await writeFile(join(root, 'secret.txt'), SECRET);
  await writeFile(join(root, 'outside', 'secret.txt'), SECRET);
  run = await writeSyntheticRun(store, { failing: true, durationS: 6 });
  live = await writeSyntheticRun(store, {
    name: 'live-run',
    timestamp: '20261122T050000.000Z',
    incomplete: true,
    durationS: 3,
    startedAt: '2026-11-22T05:00:00.000Z',
  });
  await writeReport(run.dir);
  await symlink(join(root, 'secret.txt'), join(run.dir, 'leak.txt'));
  await symlink(join(root, 'outside'), join(store, 'evil-dir'));
  server = await startServe({ store, port: 0 });
});
afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('lab serve refuses every path out of the store', () => {
  const attacks = [
    '/files/../secret.txt',
    '/files/partition-5/../../secret.txt',
    '/files/%2e%2e/secret.txt',
    '/files/%2E%2E%2Fsecret.txt',
    '/files/%252e%252e/secret.txt',
    '/files/%252e%252e%252fsecret.txt',
    '/files/..%2fsecret.txt',
    '/files/..%5csecret.txt',
    '/files/..\\secret.txt',
    '/files/.%2e/secret.txt',
    '/files//etc/passwd',
    '/files/%2Fetc%2Fpasswd',
    '/files/secret.txt%00.html',
    '/files/partition-5/latest/leak.txt',
    '/files/evil-dir/secret.txt',
    '/files/evil-dir/',
    '/zip/..%2f.zip',
    '/zip/evil-dir.zip',
    '/zip/%2e%2e.zip',
  ];
  it.each(attacks)('%s is a 4xx without the file', async (path) => {
    const response = await get(path);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.body.toString('latin1')).not.toContain(SECRET);
  });

  it('refuses absolute paths of the machine and absolute-form request targets', async () => {
    for (const path of [
      `/files/${join(root, 'secret.txt')}`,
      `http://127.0.0.1:${server.port}/files/../secret.txt`,
    ]) {
      const response = await get(path);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.body.toString()).not.toContain(SECRET);
    }
  });

  it('still serves files through the latest links, which point inside the store', async () => {
    const response = await get('/files/partition-5/latest/results.json');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(response.body.toString()).name).toBe('partition-5');
  });
});

describe('lab serve pages', () => {
  it('lists runs newest first with coloured verdicts, report, view and zip links', async () => {
    const page = (await get('/')).body.toString();
    expect(page.indexOf('live-run')).toBeLessThan(page.indexOf('partition-5'));
    expect(page).toContain('data-verdict="incomplete"');
    expect(page).toContain('data-verdict="invalid"');
    expect(page).toContain(`href="/files/partition-5/20261122T040000.000Z/${run.failingView}"`);
    expect(page).toContain('href="/zip/partition-5/20261122T040000.000Z.zip"');
  });

  it('serves a report with its content type, and renders a live report for a run in progress', async () => {
    const report = await get('/files/partition-5/20261122T040000.000Z/report.html');
    expect(report.status).toBe(200);
    expect(report.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(report.body.toString()).toContain('verdict-invalid');
    const progress = await get(`/files/live-run/${live.dir.split('/').pop() ?? ''}/report.html`);
    expect(progress.status).toBe(200);
    expect(progress.body.toString()).toContain('verdict-incomplete');
  });

  it('lists a run folder and redirects a folder without its trailing slash', async () => {
    const listing = await get('/files/partition-5/20261122T040000.000Z/');
    expect(listing.body.toString()).toContain('href="history.jsonl"');
    const redirect = await get('/files/partition-5/20261122T040000.000Z');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/files/partition-5/20261122T040000.000Z/');
  });

  it('zips the run folder with its files, and without the symlink that points out', async () => {
    const response = await get('/zip/partition-5/20261122T040000.000Z.zip');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/zip');
    const entries = zipEntries(response.body);
    const prefix = 'partition-5-20261122T040000.000Z/';
    for (const file of [
      'history.jsonl',
      'results.json',
      'report.html',
      'lab.log',
      'logs/n1.log',
      run.failingView ?? 'no view',
    ]) {
      expect(entries.get(prefix + file)).toBe((await stat(join(run.dir, file))).size);
    }
    expect([...entries.keys()].some((name) => name.includes('leak'))).toBe(false);
    expect(response.body.toString('latin1')).not.toContain(SECRET);
    expect(await readFile(join(run.dir, 'results.json'), 'utf8')).toContain('"verdict": "invalid"');
  });
});
