// Human-readable lines for lab sim: one per seed, a progress line, and the final summary line.
import type { SimOptions } from './config.js';
import { failureKind } from './safety.js';
import type { SimSummary } from './simulation.js';
import type { SweepProgress } from './sweep.js';
import { replayCommand } from './sweep.js';

export function seedLine(s: SimSummary): string {
  const ops = `${s.ops.ok + s.ops.fail + s.ops.info} ops (${s.ops.ok} ok, ${s.ops.fail} fail, ${s.ops.info} info)`;
  const stats = `${ops}, ${s.committedEntries} entries committed, ${(s.simulatedNs / 1e9).toFixed(1)} s simulated in ${(s.wallMs / 1000).toFixed(2)} s`;
  if (s.passed)
    return `seed ${s.seed}: passed${s.disk === 'wal' ? ' (WAL disk)' : ''}: ${stats}; linearizability ${s.linearizability}`;
  const v = s.violation;
  const kind = v === undefined ? 'safety' : failureKind(v.property);
  const disk = s.disk === 'wal' ? ', WAL disk' : '';
  return `seed ${s.seed}: FAILED (${kind}, ${s.readMode} reads${disk}) ${v?.property ?? '?'} at ${((v?.timeNs ?? 0) / 1e6).toFixed(3)} ms: ${firstLine(v?.detail ?? '')}`;
}

export function failureLines(s: SimSummary, options: SimOptions, dir: string): string[] {
  const files =
    s.violation?.property === 'linearizability'
      ? 'trace.txt, history.jsonl, counterexample/*.html'
      : 'trace.txt, history.jsonl';
  return [seedLine(s), `  replay:   ${replayCommand(options)}`, `  evidence: ${dir}/ (${files})`];
}

export function progressLine(p: SweepProgress): string {
  const rate = p.elapsedMs > 0 ? (p.done / (p.elapsedMs / 1000)).toFixed(1) : '-';
  return `seeds ${p.done}/${p.total} done, ${p.failed} failed, ${rate} seeds/s`;
}

export function summaryLine(total: number, failed: number): string {
  return `${total} seed${total === 1 ? '' : 's'}: ${total - failed} passed, ${failed} failed`;
}

function firstLine(text: string): string {
  const i = text.indexOf('\n');
  return i < 0 ? text : text.slice(0, i);
}
