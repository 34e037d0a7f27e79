// Just enough EDN to read one flat map per line: {:process 0, :type :ok, :f :get, :key "1", :value "x"}.
// Values: nil, true, false, integers, strings, keywords (returned as ":name").

export type EdnValue = string | number | boolean | null | { keyword: string };

export function parseEdnMap(line: string): Map<string, EdnValue> | string {
  const p = { text: line, at: 0 };
  skip(p);
  if (p.text[p.at] !== '{') return 'expected an EDN map starting with {';
  p.at++;
  const map = new Map<string, EdnValue>();
  for (;;) {
    skip(p);
    if (p.text[p.at] === '}') {
      p.at++;
      skip(p);
      return p.at === p.text.length ? map : 'unexpected text after the map';
    }
    const key = parseValue(p);
    if (typeof key === 'string' && key.startsWith('!')) return key.slice(1);
    if (key === null || typeof key !== 'object') return 'map keys must be keywords';
    skip(p);
    const value = parseValue(p);
    if (typeof value === 'string' && value.startsWith('!')) return value.slice(1);
    map.set(key.keyword, typeof value === 'string' ? value.slice(1) : value);
  }
}

function skip(p: { text: string; at: number }): void {
  while (p.at < p.text.length && /[\s,]/.test(p.text[p.at]!)) p.at++;
}

/** Strings come back prefixed with '"' (and errors with '!') so the two cannot be confused. */
function parseValue(p: { text: string; at: number }): EdnValue {
  const c = p.text[p.at];
  if (c === undefined) return '!unexpected end of line';
  if (c === '"') return parseString(p);
  const token = /^[^\s,{}[\]()"]+/.exec(p.text.slice(p.at))?.[0];
  if (token === undefined) return `!unexpected ${JSON.stringify(c)} at column ${p.at + 1}`;
  p.at += token.length;
  if (token === 'nil') return null;
  if (token === 'true' || token === 'false') return token === 'true';
  if (token.startsWith(':')) return { keyword: token.slice(1) };
  if (/^-?\d+$/.test(token)) {
    // Past 2^53 a double cannot hold every integer: refuse instead of rounding.
    const value = Number(token);
    return Number.isSafeInteger(value) ? value : `!${token} is too large to read exactly (above 2^53 - 1)`;
  }
  return `!cannot read ${JSON.stringify(token)}`;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };

function parseString(p: { text: string; at: number }): string {
  let out = '"';
  p.at++;
  while (p.at < p.text.length) {
    const c = p.text[p.at++]!;
    if (c === '"') return out;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const escaped = ESCAPES[p.text[p.at++] ?? ''];
    if (escaped === undefined) return '!unknown escape in a string';
    out += escaped;
  }
  return '!unterminated string';
}
