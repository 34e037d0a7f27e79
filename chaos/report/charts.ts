// The report's plots: Vega-Lite specs compiled and rendered to static SVG in Node (no browser, no
// canvas). Mark layers carry stable names so tests and readers can find them in the SVG:
// `ops_marks` (one path per plotted operation), `faults_marks` (one rect per fault period),
// `fault_labels_marks` (one label per fault period), `throughput_marks`, `log_marks`.
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { FaultRecord } from '../results-types.js';
import type { NotableLine } from './node-logs.js';
import { latencyMs, type Operation } from '../figures/operations.js';
import type { ThroughputBin } from '../figures/stats.js';

export const OUTCOME_COLORS: Readonly<Record<string, string>> = {
  ok: '#3b75af',
  info: '#ef8a17',
  fail: '#d62728',
};
const FAULT_COLORS: Readonly<Record<string, string>> = {
  partition: '#9e9ac8',
  kill: '#fc9272',
  pause: '#74c476',
  packet: '#fdae6b',
};
const WIDTH_PX = 880;

export interface Axis {
  startS: number;
  endS: number;
}

interface BandDatum {
  startS: number;
  endS: number;
  label: string;
  color: string;
  labelY: number;
}

export function faultColor(fault: string): string {
  return FAULT_COLORS[fault] ?? '#bdbdbd';
}

/** Bands with label rows assigned greedily so overlapping faults' labels do not overlap. */
export function bandData(faults: readonly FaultRecord[], axis: Axis): BandDatum[] {
  const laneEnds: number[] = [];
  return faults.map((f) => {
    const startS = f.startTime / 1e9;
    const endS = f.stopTime === null ? axis.endS : f.stopTime / 1e9;
    let lane = laneEnds.findIndex((end) => end <= startS);
    if (lane < 0) lane = laneEnds.push(0) - 1;
    laneEnds[lane] = endS + (axis.endS - axis.startS) * 0.08; // leave room for the label text
    return { startS, endS, label: f.fault, color: faultColor(f.fault), labelY: 10 + lane * 12 };
  });
}

function bandLayers(bands: readonly BandDatum[], axis: Axis): Record<string, unknown>[] {
  const x = { field: 'startS', type: 'quantitative', scale: { domain: [axis.startS, axis.endS] } };
  return [
    {
      name: 'faults',
      data: { values: bands },
      mark: { type: 'rect', opacity: 0.22, aria: false },
      encoding: { x, x2: { field: 'endS' }, color: { field: 'color', type: 'nominal', scale: null } },
    },
    {
      name: 'fault_labels',
      data: { values: bands },
      mark: { type: 'text', align: 'left', dx: 3, fontSize: 11, fontWeight: 'bold', aria: false },
      encoding: { x, y: { field: 'labelY', type: 'quantitative', scale: null }, text: { field: 'label' } },
    },
  ];
}

/** Gridlines at 0.01, 0.1, 1, 10 ... ms spanning the data: a log axis's default ticks crowd it. */
function powersOfTen(values: readonly number[]): number[] {
  if (values.length === 0) return [1];
  let [low, high] = [Infinity, 0];
  for (const v of values) [low, high] = [Math.min(low, v), Math.max(high, v)];
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(low)); e <= Math.ceil(Math.log10(high)); e += 1)
    ticks.push(Number(`1e${e}`));
  return ticks;
}

function timeAxis(axis: Axis): Record<string, unknown> {
  return {
    field: 'timeS',
    type: 'quantitative',
    title: 'time since start (s)',
    scale: { domain: [axis.startS, axis.endS], nice: false },
  };
}

export function latencySpec(
  ops: readonly Operation[],
  faults: readonly FaultRecord[],
  axis: Axis,
): TopLevelSpec {
  const values = ops.flatMap((op) => {
    const latency = latencyMs(op);
    if (latency === null || op.outcome === 'pending') return [];
    return [{ timeS: op.invokeNs / 1e9, latencyMs: Math.max(latency, 0.01), outcome: op.outcome, f: op.f }];
  });
  const opNames = [...new Set(values.map((v) => v.f))].sort();
  const points = {
    name: 'ops',
    data: { values },
    mark: { type: 'point', filled: true, size: 18, opacity: 0.75, aria: false },
    encoding: {
      x: timeAxis(axis),
      y: {
        field: 'latencyMs',
        type: 'quantitative',
        title: 'latency (ms, log)',
        scale: { type: 'log' },
        axis: { values: powersOfTen(values.map((v) => v.latencyMs)), format: ',~g' },
      },
      color: outcomeColor(),
      shape: { field: 'f', type: 'nominal', title: 'operation', scale: { domain: opNames } },
    },
  };
  return topLevel([...bandLayers(bandData(faults, axis), axis), points], 300);
}

export function throughputSpec(
  bins: readonly ThroughputBin[],
  binS: number,
  faults: readonly FaultRecord[],
  axis: Axis,
): TopLevelSpec {
  // Stacked here rather than by vega-lite: ranged (x/x2) bars do not stack there.
  const order = Object.keys(OUTCOME_COLORS);
  const base = new Map<number, number>();
  const values = [...bins]
    .sort((a, b) => a.startS - b.startS || order.indexOf(a.outcome) - order.indexOf(b.outcome))
    .map((b) => {
      const y0 = base.get(b.startS) ?? 0;
      base.set(b.startS, y0 + b.opsPerS);
      return { timeS: b.startS, endS: b.startS + binS, y0, y1: y0 + b.opsPerS, outcome: b.outcome };
    });
  const bars = {
    name: 'throughput',
    data: { values },
    mark: { type: 'rect', aria: false },
    encoding: {
      x: timeAxis(axis),
      x2: { field: 'endS' },
      y: { field: 'y1', type: 'quantitative', title: 'completions per second' },
      y2: { field: 'y0' },
      color: outcomeColor(),
    },
  };
  return topLevel([...bandLayers(bandData(faults, axis), axis), bars], 200);
}

export function logSpec(
  lines: readonly NotableLine[],
  nodes: readonly string[],
  faults: readonly FaultRecord[],
  axis: Axis,
): TopLevelSpec {
  const values = lines.map((l) => ({ timeS: l.timeS, node: l.node, kind: l.kind }));
  const marks = {
    name: 'log',
    data: { values },
    mark: { type: 'point', filled: true, size: 70, opacity: 0.9, aria: false },
    encoding: {
      x: timeAxis(axis),
      y: { field: 'node', type: 'nominal', title: 'node', scale: { domain: nodes } },
      color: {
        field: 'kind',
        type: 'nominal',
        title: 'event',
        scale: {
          domain: [
            'leader',
            'step-down',
            'restart',
            'refused',
            'crash',
            'snapshot-taken',
            'snapshot-sent',
            'snapshot-installed',
          ],
          range: ['#2ca02c', '#8c6d31', '#1f77b4', '#9467bd', '#d62728', '#c7c7c7', '#17becf', '#e377c2'],
        },
      },
    },
  };
  return topLevel([...bandLayers(bandData(faults, axis), axis), marks], Math.max(90, nodes.length * 28));
}

function outcomeColor(): Record<string, unknown> {
  return {
    field: 'outcome',
    type: 'nominal',
    title: 'outcome',
    scale: { domain: Object.keys(OUTCOME_COLORS), range: Object.values(OUTCOME_COLORS) },
  };
}

function topLevel(layer: Record<string, unknown>[], heightPx: number): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: WIDTH_PX,
    height: heightPx,
    background: 'white',
    config: {
      font: 'Helvetica, Arial, sans-serif',
      axis: { labelFontSize: 11, titleFontSize: 12 },
      legend: { labelFontSize: 11, symbolOpacity: 1 },
    },
    layer,
    // The layers are built as plain records (their encodings vary by layer); vega-lite validates at compile.
  } as unknown as TopLevelSpec;
}

/** Compile and render to an SVG string; coordinates are rounded to 2 decimals to keep it small. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    await view.runAsync();
    const svg = await view.toSVG();
    return svg.replace(/(\d+\.\d\d)\d+/g, '$1');
  } finally {
    view.finalize();
  }
}
