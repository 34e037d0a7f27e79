// `lab serve`: a small HTTP server over the store (histories/). Routes:
//   /                 the runs page, read from disk on every request
//   /files/<path>     a file or folder listing inside the store (report.html of a run in progress
//                     is rendered live when it has not been written yet)
//   /zip/<run>.zip    the run folder as a zip, streamed
// Every path goes through resolveInStore: nothing outside the store is ever read.
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { renderReport } from '../report/index.js';
import { HISTORY_FILE, REPORT_FILE } from '../run-folder.js';
import { displayType } from './content-type.js';
import { listingPage, runsPage } from './pages.js';
import { isDirectory, listRuns } from '../report/store.js';
import { resolveInStore } from './safe-path.js';
import { streamZip } from './zip.js';

export interface ServeOptions {
  store: string;
  host?: string;
  port?: number;
}

export interface RunningServe {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const storeReal = await realpath(options.store).catch(() => {
    throw new Error(`the store ${options.store} does not exist (run \`lab run\` first, or pass --store)`);
  });
  if (!(await isDirectory(storeReal))) throw new Error(`the store ${options.store} is not a folder`);
  const server = createServer((req, res) => {
    handle(storeReal, req, res).catch((error: unknown) =>
      fail(res, 500, `internal error: ${(error as Error).message}`),
    );
  });
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(storeReal: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, 'only GET and HEAD');
  // The raw target, not a parsed URL: URL parsing would resolve `..` and `%2e%2e` before we could refuse them.
  const target = (req.url ?? '').split('?')[0] ?? '';
  if (!target.startsWith('/')) return fail(res, 400, 'bad request target');
  if (target === '/' || target === '/index.html')
    return sendHtml(res, runsPage(storeReal, await listRuns(storeReal)));
  if (target === '/files' || target === '/files/') return serveFolder(res, storeReal, '');
  if (target.startsWith('/files/')) return serveFile(storeReal, target.slice('/files/'.length), res);
  if (target.startsWith('/zip/') && target.endsWith('.zip')) {
    return serveZip(storeReal, target.slice('/zip/'.length, -'.zip'.length), res);
  }
  return fail(res, 404, 'not found');
}

async function serveFile(storeReal: string, rawPath: string, res: ServerResponse): Promise<void> {
  const resolved = await resolveInStore(storeReal, rawPath);
  if (!resolved.ok) {
    if (resolved.status === 404 && resolved.reason === 'not found')
      return serveLiveReport(storeReal, rawPath, res);
    return fail(res, resolved.status, resolved.reason);
  }
  const info = await stat(resolved.path);
  if (info.isDirectory()) {
    if (!rawPath.endsWith('/')) return redirect(res, `/files/${rawPath}/`);
    return serveFolder(res, resolved.path, resolved.segments.join('/'));
  }
  if (!info.isFile()) return fail(res, 403, 'not a regular file');
  res.writeHead(200, {
    'Content-Type': displayType(resolved.path),
    'Content-Length': info.size,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  if (res.req.method === 'HEAD') return void res.end();
  createReadStream(resolved.path)
    .on('error', () => res.destroy())
    .pipe(res);
}

/** A run still in progress has no report.html yet: render one from what is on disk so far. */
async function serveLiveReport(storeReal: string, rawPath: string, res: ServerResponse): Promise<void> {
  const parts = rawPath.split('/');
  if (parts[parts.length - 1] !== REPORT_FILE) return fail(res, 404, 'not found');
  const run = await resolveInStore(storeReal, parts.slice(0, -1).join('/'));
  if (!run.ok || !(await isDirectory(run.path)) || run.path === storeReal) return fail(res, 404, 'not found');
  const hasRun = await stat(join(run.path, HISTORY_FILE)).then(
    () => true,
    () => false,
  );
  if (!hasRun) return fail(res, 404, 'not found');
  return sendHtml(res, await renderReport(run.path));
}

async function serveFolder(res: ServerResponse, path: string, relPath: string): Promise<void> {
  const entries = (await readdir(path, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  return sendHtml(res, listingPage(relPath, entries));
}

async function serveZip(storeReal: string, rawPath: string, res: ServerResponse): Promise<void> {
  const resolved = await resolveInStore(storeReal, rawPath);
  if (!resolved.ok) return fail(res, resolved.status, resolved.reason);
  if (!(await isDirectory(resolved.path)) || resolved.path === storeReal)
    return fail(res, 404, 'not a run folder');
  const rootName = resolved.segments.join('-');
  res.writeHead(200, {
    'Content-Type': 'application/zip',
    'Content-Disposition': `attachment; filename="${rootName.replace(/[^\w.-]/g, '_')}.zip"`,
    'Cache-Control': 'no-store',
  });
  if (res.req.method === 'HEAD') return void res.end();
  await streamZip(resolved.path, storeReal, rootName, res);
}

function sendHtml(res: ServerResponse, html: string): void {
  const body = Buffer.from(html);
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(301, { Location: location, 'Content-Length': 0 });
  res.end();
}

function fail(res: ServerResponse, status: number, reason: string): void {
  if (res.headersSent) return void res.destroy();
  const body = `${status} ${reason}\n`;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
