// HTML of `lab serve`: the runs page and the folder listings inside the store.
import type { Dirent } from 'node:fs';
import { escapeHtml as esc, hrefOf, verdictBadge } from '../report/format.js';
import type { RunSummary } from '../report/store.js';
import { count } from '../../checker/plural.js';

const CSS = `
body{font:14px/1.45 Helvetica,Arial,sans-serif;color:#1f2328;margin:24px auto;max-width:1200px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}table{border-collapse:collapse;width:100%;margin-top:12px}
td,th{border-bottom:1px solid #d0d7de;padding:6px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}
.verdict{color:#fff;border-radius:4px;padding:2px 8px;font-weight:bold;text-transform:uppercase;font-size:12px}
.note{color:#57606a}a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}code{font-size:12.5px}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head><body>${body}</body></html>\n`;
}

export function runsPage(store: string, runs: readonly RunSummary[]): string {
  const rows = runs.map(runRow).join('\n');
  const empty =
    runs.length === 0
      ? '<tr><td colspan="7" class="note">No runs yet: start one with <code>lab run</code>.</td></tr>'
      : '';
  return page(
    'raftlab runs',
    `<h1>raftlab runs</h1><p class="note">${count(runs.length, 'run')} under <code>${esc(store)}</code>, newest first. This page reads the folder on every load: reload to see new runs.</p>
<table id="runs"><tr><th>run</th><th>started</th><th>nodes</th><th>nemesis</th><th>verdict</th><th>counterexamples</th><th>files</th></tr>${rows}${empty}</table>`,
  );
}

function runRow(run: RunSummary): string {
  const r = run.results;
  const base = `/files/${hrefOf(run.relPath)}/`;
  // A run without report.html yet (in progress) still gets a link: the server renders it live.
  const report = `<a class="report-link" href="${base}report.html">report</a>${run.hasReport ? '' : ' <span class="note">(live)</span>'}`;
  const views = run.views
    .map((v) => `<a class="view-link" href="${base}${hrefOf(v.path)}">${esc(v.key)}</a>`)
    .join(' ');
  const files = `<a href="${base}">files</a> · <a class="zip-link" href="/zip/${hrefOf(run.relPath)}.zip">zip</a>`;
  const nemesis = r ? r.nemesis.join(', ') || 'none' : '';
  return `<tr class="run" data-verdict="${run.verdict}"><td><b>${esc(run.name)}</b><br><span class="note">${esc(run.timestamp)}</span></td><td>${esc(run.startedAt ?? '–')}</td><td>${r ? r.nodes.length : '–'}</td><td>${esc(nemesis)}</td><td>${verdictBadge(run.verdict)}${r?.partial === true && run.verdict !== 'incomplete' ? '<br><span class="note">partial history</span>' : ''}${run.problem ? `<br><span class="note">${esc(run.problem)}</span>` : ''}</td><td>${views || '<span class="note">–</span>'}</td><td>${report} · ${files}</td></tr>`;
}

export function listingPage(relPath: string, entries: readonly Dirent[]): string {
  const sorted = [...entries].sort(
    (a, b) => Number(b.isDirectory()) - Number(a.isDirectory()) || a.name.localeCompare(b.name),
  );
  const items = sorted.map((e) => {
    const name = e.isDirectory() || e.isSymbolicLink() ? `${e.name}/` : e.name;
    const href = encodeURIComponent(e.name) + (e.isDirectory() ? '/' : '');
    return `<li><a href="${href}">${esc(name)}</a></li>`;
  });
  const up = relPath === '' ? '' : '<li><a href="../">../</a></li>';
  return page(
    `histories/${relPath}`,
    `<p><a href="/">all runs</a></p><h1>histories/${esc(relPath)}</h1><ul>${up}${items.join('')}</ul>`,
  );
}
