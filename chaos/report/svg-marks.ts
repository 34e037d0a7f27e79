// Finds a named mark layer in a rendered SVG (see charts.ts for the names) and lists its items.
// Used by the tests and the browser test; vega writes each layer as one <g class="mark-TYPE role-mark NAME">
// whose children are one element per datum, with no nested groups.
export function markItems(svg: string, markName: string, element = 'path'): string[] {
  const items: string[] = [];
  const open = new RegExp(`<g class="mark-[a-z]+ role-mark ${markName}"[^>]*>`, 'g');
  for (const match of svg.matchAll(open)) {
    const start = (match.index ?? 0) + match[0].length;
    const end = svg.indexOf('</g>', start);
    const body = svg.slice(start, end < 0 ? undefined : end);
    items.push(...(body.match(new RegExp(`<${element}[ >][^]*?(?:/>|</${element}>)`, 'g')) ?? []));
  }
  return items;
}
