// Writes one benchmark's section of BENCHMARKS.md, between markers of its own, with the machine and
// date, so each `npm run bench:*` replaces only its own rows.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const file = join(import.meta.dirname, '..', 'BENCHMARKS.md');

export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const memGiB = (totalmem() / 2 ** 30).toFixed(0);
  return `Machine: ${cpus().length} × ${cpu}, ${memGiB} GiB, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}.`;
}

export function writeSection(name: string, markdownBody: string): void {
  const start = `<!-- bench:${name} start -->`;
  const end = `<!-- bench:${name} end -->`;
  const block = `${start}\n${markdownBody.trim()}\n\n${machineLine()}\n${end}`;
  let text = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmarks\n\nWritten by `npm run bench:*`; each section is replaced by its own benchmark.\n';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  text =
    from >= 0 && to > from
      ? text.slice(0, from) + block + text.slice(to + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}

/** A markdown table from a header and rows. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
