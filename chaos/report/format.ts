// Small formatting helpers shared by the report page, `lab serve` and `lab show`.
import type { EventValue } from '../../checker/history-types.js';
import type { RunVerdict } from '../results-types.js';

export const VERDICT_COLORS: Readonly<Record<RunVerdict, string>> = {
  valid: '#1a7f37',
  invalid: '#cf222e',
  unknown: '#9a6700',
  incomplete: '#6e7781',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function percent(share: number | null): string {
  return share === null ? '–' : `${(share * 100).toFixed(1)}%`;
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function seconds(ns: number | null): string {
  return ns === null ? '–' : `${(ns / 1e9).toFixed(2)} s`;
}

export function eventValue(value: EventValue | undefined): string {
  if (value === undefined || value === null) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${value.expected === null ? 'nil' : JSON.stringify(value.expected)} → ${JSON.stringify(value.new)}`;
}

export function verdictBadge(verdict: RunVerdict): string {
  return `<span class="verdict verdict-${verdict}" style="background:${VERDICT_COLORS[verdict]}">${verdict}</span>`;
}

/** A URL path segment list joined and percent-encoded, for links inside the store. */
export function hrefOf(...segments: string[]): string {
  return segments
    .flatMap((s) => s.split('/'))
    .filter((s) => s !== '')
    .map(encodeURIComponent)
    .join('/');
}

/** Run options as `name=value` pairs, lists comma-joined: `nodes=5 nemesis=partition,kill`. */
export function formatOptions(options: Readonly<Record<string, unknown>>): string {
  const text = (v: unknown): string =>
    typeof v === 'string' ? v : Array.isArray(v) ? v.map(text).join(',') : JSON.stringify(v);
  return Object.entries(options)
    .map(([k, v]) => `${k}=${text(v)}`)
    .join(' ');
}
