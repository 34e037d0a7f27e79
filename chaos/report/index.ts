// writeReport(runDir): renders `report.html` into a run folder (called by `lab run` at the end of a
// run and by `lab analyze`). The page is self-contained: inline SVG plots and CSS, no scripts.
import { rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { renderSvg, latencySpec, logSpec, throughputSpec, type Axis } from './charts.js';
import { readNodeLogs, type NodeLogSummary } from './node-logs.js';
import { renderPage } from './page.js';
import { REPORT_FILE } from '../run-folder.js';
import { loadRun, type RunData } from './run.js';
import { POINTS_MAX, samplePoints } from './sample.js';
import { throughput } from '../figures/stats.js';
import { violationWindow } from './violation.js';

export { loadRun, displayVerdict, type RunData } from './run.js';

export { REPORT_FILE };

export interface ReportOptions {
  /** Most operations plotted in the latency plot (default 5,000). */
  pointsMax?: number;
}

export async function writeReport(runDir: string, options: ReportOptions = {}): Promise<string> {
  const html = await renderReport(runDir, options);
  const path = join(runDir, REPORT_FILE);
  // Write then rename, so `lab serve` never serves half a report.
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, html);
  await rename(temporary, path);
  return path;
}

export async function renderReport(runDir: string, options: ReportOptions = {}): Promise<string> {
  const run = await loadRun(runDir);
  const logs = await loadLogs(run);
  const axis = timeAxis(run, logs);
  const completed = run.operations.filter((op) => op.outcome !== 'pending');
  const sampled = samplePoints(completed, (op) => op.outcome === 'ok', options.pointsMax ?? POINTS_MAX);
  const { binS, bins } = throughput(run.operations, run.endNs);
  const nodes = run.results?.nodes.length
    ? run.results.nodes
    : [...new Set(logs.lines.map((l) => l.node))].sort();
  const [latencySvg, throughputSvg, logSvg] = await Promise.all([
    renderSvg(latencySpec(sampled.points, run.faults, axis)),
    renderSvg(throughputSpec(bins, binS, run.faults, axis)),
    logs.lines.length > 0 ? renderSvg(logSpec(logs.lines, nodes, run.faults, axis)) : Promise.resolve(null),
  ]);
  const illegal = run.results?.checker.keys.filter((k) => k.verdict === 'illegal') ?? [];
  return renderPage({
    run,
    title: reportTitle(run),
    latencySvg,
    throughputSvg,
    logSvg,
    plotted: { points: sampled.points.length, total: sampled.total, capped: sampled.capped },
    binS,
    logs,
    windows: illegal.map((k) => violationWindow(run.history.events, k.key)),
  });
}

function reportTitle(run: RunData): string {
  const name = run.results?.name ?? basename(dirname(run.dir));
  return `${name} / ${basename(run.dir)}`;
}

async function loadLogs(run: RunData): Promise<NodeLogSummary> {
  const startedAtMs = run.results ? Date.parse(run.results.startedAt) : Number.NaN;
  if (!run.results || !Number.isFinite(startedAtMs)) return { lines: [], unparseable: 0, missing: [] };
  return readNodeLogs(run.dir, run.results.nodeLogs ?? {}, startedAtMs);
}

/** One time axis for every plot: the history's span, widened to show log lines around it. */
function timeAxis(run: RunData, logs: NodeLogSummary): Axis {
  const times = logs.lines.map((l) => l.timeS);
  const startS = Math.min(0, ...times);
  const endS = Math.max(run.endNs / 1e9, ...times, startS + 1);
  return { startS, endS };
}
