// The report page: one self-contained HTML file (inline CSS and SVG, no scripts, no network).
import type { ClientEvent, HistoryEvent } from '../../checker/history-types.js';
import type { FaultRecord } from '../results-types.js';
import {
  escapeHtml as esc,
  eventValue,
  formatOptions,
  hrefOf,
  ms,
  percent,
  seconds,
  verdictBadge,
} from './format.js';
import type { NodeLogSummary } from './node-logs.js';
import { HISTORY_FILE, LAB_LOG_FILE, RESULTS_FILE } from '../run-folder.js';
import { displayVerdict, partialNote, type RunData } from './run.js';
import type { ViolationWindow } from './violation.js';
import { count } from '../../checker/plural.js';

export interface ReportModel {
  run: RunData;
  title: string;
  latencySvg: string;
  throughputSvg: string;
  logSvg: string | null;
  plotted: { points: number; total: number; capped: boolean };
  binS: number;
  logs: NodeLogSummary;
  windows: ViolationWindow[];
}

export const NOTABLE_LINES_LISTED_MAX = 200;

const CSS = `
body{font:14px/1.45 Helvetica,Arial,sans-serif;color:#1f2328;margin:24px auto;max-width:1000px;padding:0 16px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.verdict{color:#fff;border-radius:4px;padding:2px 10px;font-weight:bold;text-transform:uppercase;font-size:13px}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:Menlo,Consolas,monospace;font-size:12.5px}pre{background:#f6f8fa;padding:8px;overflow-x:auto;white-space:pre-wrap}
.note{color:#57606a;font-size:13px}.failing{background:#ffebe9;font-weight:bold}.nemesis{color:#8250df}
.plot svg{max-width:100%;height:auto}.meta td:first-child{font-weight:bold;background:#f6f8fa}`;

export function renderPage(model: ReportModel): string {
  const sections = [
    header(model),
    failingKeys(model.windows, model.run),
    plots(model),
    nodeLogs(model),
    summary(model),
    faultsTable(model.run.faults),
    files(model.run),
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(model.title)}</title><style>${CSS}</style></head><body>${sections.join('\n')}</body></html>\n`;
}

function header(model: ReportModel): string {
  const r = model.run.results;
  const verdict = displayVerdict(r);
  const rows: [string, string][] = r
    ? [
        ['started', `${r.startedAt}, finished ${r.finishedAt ?? '– still running (or interrupted)'}`],
        ['cluster', `${r.nodes.join(', ')} on the ${r.runtime} runtime`],
        ['nemesis', `${r.nemesis.join(', ') || 'none'}, seed ${r.seed}`],
        [
          'checker',
          `${r.checker.verdict} in ${ms(r.checker.elapsedMs)} ms over ${count(r.checker.keys.length, 'key')}`,
        ],
      ]
    : [[RESULTS_FILE, model.run.resultsProblem ?? 'missing']];
  const options: [string, string][] = r ? [['options', formatOptions(r.options)]] : [];
  const replay = r ? `<p>Replay this run:</p><pre>${esc(r.replayCommand)}</pre>` : '';
  const partial = partialNote(r);
  const error = partial
    ? `<p class="failing">The verdict is ${esc(partial)}.</p>`
    : r?.error
      ? `<p class="failing">The lab failed: ${esc(r.error)}</p>`
      : '';
  const broken = (r?.invariantViolations ?? [])
    .map((v) => `<p class="failing">Node ${esc(v.node)} stopped: ${esc(v.message)}</p>`)
    .join('');
  return `<h1>${esc(model.title)} ${verdictBadge(verdict)}</h1>${error}${broken}
<table class="meta">${[...rows, ...options].map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>${replay}`;
}

function summary(model: ReportModel): string {
  const { counts, latency, availability: a } = model.run;
  const countRows = [...counts.byOperation]
    .sort((x, y) => x[0].localeCompare(y[0]))
    .map(
      ([f, c]) =>
        `<tr><td>${f}</td><td class="n">${c.ok}</td><td class="n">${c.fail}</td><td class="n">${c.info}</td><td class="n">${c.pending}</td></tr>`,
    );
  const t = counts.total;
  countRows.push(
    `<tr><th>all</th><th>${t.ok}</th><th>${t.fail}</th><th>${t.info}</th><th>${t.pending}</th></tr>`,
  );
  const latencyRows = [...latency].map(
    ([f, q]) =>
      `<tr><td>${f}</td>${[q.p50, q.p95, q.p99, q.max].map((v) => `<td class="n">${ms(v)}</td>`).join('')}<td class="n">${q.count}</td></tr>`,
  );
  return `<h2>Operations</h2><table><tr><th>operation</th><th>ok</th><th>fail</th><th>info</th><th>pending</th></tr>${countRows.join('')}</table>
<h2>Latency of ok operations (ms)</h2><table><tr><th>operation</th><th>p50</th><th>p95</th><th>p99</th><th>max</th><th>count</th></tr>${latencyRows.join('') || '<tr><td colspan="6">no ok operations</td></tr>'}</table>
<h2>Availability</h2><p class="note">Share of operations answered (ok, or a cas that found another value; not fail, info or pending), by whether they were invoked while a fault was in force.</p>
<table><tr><th>during faults</th><th>outside faults</th><th>overall</th></tr><tr><td class="n">${percent(a.duringFaults)} of ${a.duringCount}</td><td class="n">${percent(a.outsideFaults)} of ${a.outsideCount}</td><td class="n">${percent(a.overall)}</td></tr></table>`;
}

function plots(model: ReportModel): string {
  const p = model.plotted;
  const cap = p.capped
    ? `Plotted ${p.points} of ${p.total} operations (capped; every fail and info kept, ok points thinned evenly).`
    : `All ${p.points} completed operations plotted.`;
  return `<h2>Latency over time</h2><p class="note">One point per operation at its invoke time, coloured by outcome and shaped by operation; shaded bands are fault periods. ${cap} Info latencies are the time until the client gave up.</p><div class="plot" id="latency-plot">${model.latencySvg}</div>
<h2>Throughput over time</h2><p class="note">Completions per second by outcome, in ${model.binS} s bins.</p><div class="plot" id="throughput-plot">${model.throughputSvg}</div>`;
}

function failingKeys(windows: readonly ViolationWindow[], run: RunData): string {
  const illegal = run.results?.checker.keys.filter((k) => k.verdict === 'illegal') ?? [];
  if (illegal.length === 0) return '';
  const parts = illegal.map((k) => {
    const window = windows.find((w) => w.key === k.key);
    const link = k.view
      ? `<a class="view-link" href="${hrefOf(k.view)}">counterexample view</a>`
      : 'no view file';
    return `<h3>key ${esc(k.key)} (${count(k.operations, 'operation')}): ${link}</h3>${window ? windowTable(window) : ''}`;
  });
  return `<h2>Failing keys</h2><p class="note">For each key the checker found non-linearizable: the smallest window that shows it, from the checker's longest partial linearization — the key's events from the last 3 operations it could place through the operations that could not come next (their completions highlighted), with faults in between. See docs/reports.md.</p>${parts.join('\n')}`;
}

function windowTable(window: ViolationWindow): string {
  const notes = window.explanation.map((line) => `<p class="note">${esc(line)}</p>`).join('');
  const rows = window.events.map((e) => eventRow(e, window.highlighted.has(e)));
  return `${notes}<table class="window"><tr><th>time</th><th>process</th><th>type</th><th>op</th><th>value</th><th>error</th><th>node</th></tr>${rows.join('')}</table>`;
}

function eventRow(e: HistoryEvent, failing: boolean): string {
  if (e.type === 'nemesis') {
    return `<tr class="nemesis"><td class="n">${seconds(e.time)}</td><td>nemesis</td><td>${e.phase}</td><td>${esc(e.fault)}</td><td colspan="3">${esc(e.detail)}</td></tr>`;
  }
  const c: ClientEvent = e;
  const value =
    c.result !== undefined ? `${eventValue(c.value)} ⇒ ${JSON.stringify(c.result)}` : eventValue(c.value);
  return `<tr${failing ? ' class="failing"' : ''}><td class="n">${seconds(c.time)}</td><td class="n">${c.process}</td><td>${c.type}</td><td>${c.f}</td><td>${esc(value)}</td><td>${esc(c.error ?? '')}</td><td class="node">${esc(c.node ?? '')}</td></tr>`;
}

function nodeLogs(model: ReportModel): string {
  const { lines, unparseable, missing } = model.logs;
  const notes = [
    unparseable > 0 ? `${unparseable} log lines had no readable time and were skipped.` : '',
    missing.length > 0 ? `Missing node logs: ${missing.map(esc).join(', ')}.` : '',
    lines.length > NOTABLE_LINES_LISTED_MAX
      ? `Listing the first ${NOTABLE_LINES_LISTED_MAX} of ${lines.length} notable lines.`
      : '',
  ].join(' ');
  if (model.logSvg === null)
    return `<h2>Node logs</h2><p class="note">No notable lines (elections, step-downs, restarts, refusals, crashes, snapshots). ${notes}</p>`;
  const rows = lines
    .slice(0, NOTABLE_LINES_LISTED_MAX)
    .map(
      (l) =>
        `<tr><td class="n">${l.timeS.toFixed(2)} s</td><td>${esc(l.node)}</td><td>${l.kind}</td><td><code>${esc(l.text)}</code></td></tr>`,
    );
  return `<h2>Node logs</h2><p class="note">Notable lines placed on the run's time axis (log wall-clock time minus the run's start). ${notes}</p><div class="plot" id="log-plot">${model.logSvg}</div>
<details><summary>${lines.length} notable lines</summary><table><tr><th>time</th><th>node</th><th>event</th><th>line</th></tr>${rows.join('')}</table></details>`;
}

function faultsTable(faults: readonly FaultRecord[]): string {
  if (faults.length === 0) return '<h2>Faults</h2><p class="note">No faults were injected.</p>';
  const rows = faults.map(
    (f) =>
      `<tr><td>${esc(f.fault)}</td><td>${esc(f.detail)}</td><td>${esc(f.nodes.join(', '))}</td><td class="n">${seconds(f.startTime)}</td><td class="n">${seconds(f.stopTime)}</td></tr>`,
  );
  return `<h2>Faults</h2><table><tr><th>fault</th><th>detail</th><th>nodes</th><th>start</th><th>stop</th></tr>${rows.join('')}</table>`;
}

function files(run: RunData): string {
  const names = [HISTORY_FILE, RESULTS_FILE, LAB_LOG_FILE, ...Object.values(run.results?.nodeLogs ?? {})];
  return `<h2>Files</h2><p>${names.map((n) => `<a href="${hrefOf(n)}">${esc(n)}</a>`).join(' · ')}</p>`;
}
