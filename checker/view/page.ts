// One self-contained HTML page per failing key: inline CSS, script and SVG, no network.
import type { ViewData } from './data.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON inside <script>: escape '<' so no string in the history can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function renderPage(data: ViewData): string {
  const capped =
    data.operationsDrawn < data.operationsTotal
      ? `<p class="note">This key has ${data.operationsTotal} operations; only the ${data.operationsDrawn} around the failure are drawn.</p>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>raftlab counterexample: key ${escapeHtml(data.key)}</title>
<style>${CSS}</style></head>
<body>
<header>
  <h1>Not linearizable: key <code>${escapeHtml(data.key)}</code></h1>
  <p>Model <b>${escapeHtml(data.model)}</b>. The longest partial linearization places
  <b>${data.linearized}</b> of <b>${data.operationsTotal}</b> operations; after it, no operation can come next.
  Axis: event order (each call, return and fault edge one step); hover a box for its times and states.</p>
  ${capped}
  <div class="controls">
    <button id="jump" type="button">Jump to first error</button>
    <span id="partials"></span>
    <span class="legend"><i class="lg lin"></i>linearized <i class="lg rej"></i>rejected by the model
    <i class="lg dead"></i>allowed, but leads nowhere <i class="lg rest"></i>not reached <i class="lg band"></i>fault</span>
  </div>
</header>
<main>
  <div id="scroll"><svg id="chart" xmlns="http://www.w3.org/2000/svg"></svg></div>
  <aside id="details"><p>Click "Jump to first error", or hover an operation.</p></aside>
</main>
<div id="tip" hidden></div>
<script>const DATA = ${scriptJson(data)};
${SCRIPT}</script>
</body></html>
`;
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{padding:12px 20px;border-bottom:1px solid #dde2ea;background:#fff}
h1{font-size:19px;margin:0 0 4px}h1 code{background:#fdecea;color:#b3261e;padding:1px 6px;border-radius:4px}
header p{margin:4px 0;color:#4a5263}.note{color:#8a5a00!important}
.controls{display:flex;gap:14px;align-items:center;flex-wrap:wrap;margin-top:8px}
button{font:inherit;padding:5px 12px;border-radius:6px;border:1px solid #b3261e;background:#b3261e;color:#fff;cursor:pointer}
#partials button{background:#fff;color:#1d2330;border-color:#c4cad4;margin-right:4px}
#partials button.on{background:#1d2330;color:#fff}
.legend{color:#4a5263;font-size:12px}.lg{display:inline-block;width:12px;height:12px;border-radius:3px;margin:0 4px 0 10px;vertical-align:-2px}
.lg.lin{background:#d9ecff;border:1px solid #2f6fb5}.lg.rej{background:#f8c7c2;border:2px solid #b3261e}
.lg.dead{background:#fff4df;border:2px solid #c77700}.lg.rest{background:#eef0f3;border:1px solid #aab1bd}.lg.band{background:#f6e7ff}
main{display:flex;height:calc(100vh - 150px);min-height:320px}
#scroll{flex:1;overflow:auto;background:#fff}
#details{width:330px;border-left:1px solid #dde2ea;padding:10px 14px;overflow:auto;background:#fff;font-size:13px}
#details h2{font-size:15px;margin:4px 0}#details code{background:#f1f3f6;padding:0 3px;border-radius:3px}
#details li{margin:2px 0}
.op rect{stroke-width:1}.op text{font-size:11px;pointer-events:none}
.op.rest rect{fill:#eef0f3;stroke:#aab1bd}.op.lin rect{fill:#d9ecff;stroke:#2f6fb5}
.op.rej rect{fill:#f8c7c2;stroke:#b3261e;stroke-width:2}.op.rej text{font-weight:600;fill:#7a1610}.op.dead rect{fill:#fff4df;stroke:#c77700;stroke-width:2}
.op.focus rect{stroke:#000;stroke-width:3}.op:hover rect{filter:brightness(.93)}
.proc{font-size:11px;fill:#4a5263}.grid{stroke:#eef0f3}
.band rect{fill:#f6e7ff}.band text{font-size:10px;fill:#7b3fa0}
.path{fill:none;stroke:#2f6fb5;stroke-width:1.6;stroke-opacity:.8}.pt{fill:#2f6fb5}.pt-n{font-size:9px;fill:#2f6fb5}
#tip{position:fixed;pointer-events:none;background:#1d2330;color:#fff;padding:6px 9px;border-radius:6px;font-size:12px;max-width:380px;white-space:pre-wrap}
`;

// The page script: plain ES2017, no libraries. Draws once per selected partial linearization.
const SCRIPT = String.raw`
(function () {
  var SLOT = DATA.slots < 160 ? 24 : DATA.slots < 600 ? 16 : 10, ROW = 30, LEFT = 70, TOP = 26, PAD = 3;
  var svg = document.getElementById('chart'), details = document.getElementById('details');
  var tip = document.getElementById('tip'), NS = 'http://www.w3.org/2000/svg';
  var ops = DATA.operations, byId = {};
  ops.forEach(function (o) { byId[o.id] = o; });
  var procs = Array.from(new Set(ops.map(function (o) { return o.process; }))).sort(function (a, b) { return a - b; });
  var rowOf = {}; procs.forEach(function (p, i) { rowOf[p] = i; });
  var width = LEFT + (DATA.slots + 2) * SLOT + 40, height = TOP + procs.length * ROW + 20;
  svg.setAttribute('width', width); svg.setAttribute('height', height);
  var current = 0;
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    (parent || svg).appendChild(e); return e;
  }
  function x(slot) { return LEFT + slot * SLOT + SLOT / 2; }
  function endOf(o) { return o.retAt < 0 ? DATA.slots + 1 : o.retAt; }
  function esc(t) { return String(t).replace(/[&<>]/g, function (c) { return c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'; }); }
  // The node that served an operation, when the history recorded it (the lab does).
  function who(o) { return 'process ' + o.process + (o.node ? ' @ ' + o.node : ''); }
  function label(o) { return (o.node ? o.node + ': ' : '') + o.description; }
  function ns(t) { return t === null ? 'never returned' : t >= 1e6 ? (t / 1e6).toFixed(3) + ' ms' : t + ' ns'; }
  function draw() {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var part = DATA.partials[current] || { order: [], before: [], after: [], blocked: [] };
    var pos = {}, blocked = {};
    part.order.forEach(function (id, i) { pos[id] = i; });
    part.blocked.forEach(function (b) { blocked[b.id] = b; });
    DATA.bands.forEach(function (b) {
      var g = el('g', { class: 'band' });
      el('rect', { x: x(b.startAt) - SLOT / 2, y: TOP - 14, width: Math.max(SLOT, (b.stopAt - b.startAt) * SLOT), height: height - TOP + 8 }, g);
      el('text', { x: x(b.startAt) - SLOT / 2 + 3, y: TOP - 4 }, g).textContent = b.fault + ' ' + b.detail;
    });
    procs.forEach(function (p, i) {
      el('line', { class: 'grid', x1: LEFT, x2: width, y1: TOP + i * ROW + ROW / 2, y2: TOP + i * ROW + ROW / 2 });
    });
    ops.forEach(function (o) {
      var kind = blocked[o.id] ? (blocked[o.id].why === 'rejected' ? 'rej' : 'dead') : pos[o.id] !== undefined ? 'lin' : 'rest';
      var g = el('g', { class: 'op ' + kind, 'data-id': o.id });
      var x0 = x(o.callAt) - SLOT / 2 + 1, w = Math.max(SLOT - 2, (endOf(o) - o.callAt + 1) * SLOT - 2);
      var r = el('rect', { x: x0, y: TOP + rowOf[o.process] * ROW + PAD, width: w, height: ROW - 2 * PAD, rx: 4 }, g);
      if (o.retAt < 0) r.setAttribute('stroke-dasharray', '4 3');
      if (w > 40) el('text', { x: x0 + 4, y: TOP + rowOf[o.process] * ROW + ROW / 2 + 4 }, g).textContent = label(o).slice(0, Math.floor(w / 6.2));
      g.addEventListener('mousemove', function (ev) { showTip(ev, o, part, pos, blocked); });
      g.addEventListener('mouseleave', function () { tip.hidden = true; });
      g.addEventListener('click', function () { focus(o.id); });
    });
    drawPath(part, pos);
    drawLabels();
  }
  // Process names stay visible at the left edge while the chart scrolls sideways.
  var labels;
  function drawLabels() {
    labels = el('g', { class: 'labels' });
    el('rect', { x: 0, y: 0, width: LEFT - 4, height: height, fill: '#fff', 'fill-opacity': 0.92 }, labels);
    procs.forEach(function (p, i) { el('text', { class: 'proc', x: 6, y: TOP + i * ROW + ROW / 2 + 4 }, labels).textContent = 'process ' + p; });
    stick();
  }
  function stick() { if (labels) labels.setAttribute('transform', 'translate(' + document.getElementById('scroll').scrollLeft + ',0)'); }
  document.getElementById('scroll').addEventListener('scroll', stick);
  // The partial linearization as a line through the boxes, each point inside its box and to the
  // right of the previous one where the box allows.
  function drawPath(part) {
    var pts = [], last = -Infinity;
    part.order.forEach(function (id, i) {
      var o = byId[id]; if (!o) return;
      var lo = x(o.callAt) - SLOT / 2 + 3, hi = x(endOf(o)) + SLOT / 2 - 3;
      var px = Math.min(hi, Math.max(lo, last + 4)); last = px;
      pts.push([px, TOP + rowOf[o.process] * ROW + ROW / 2, i + 1 + (part.omitted || 0)]);
    });
    if (pts.length > 1) el('polyline', { class: 'path', points: pts.map(function (p) { return p[0] + ',' + p[1]; }).join(' ') });
    pts.forEach(function (p) {
      el('circle', { class: 'pt', cx: p[0], cy: p[1], r: 2.6 });
      if (pts.length < 400) el('text', { class: 'pt-n', x: p[0] + 3, y: p[1] - 5 }).textContent = p[2];
    });
  }
  function stateText(o, part, pos, blocked) {
    if (pos[o.id] !== undefined) return 'step ' + (pos[o.id] + 1 + (part.omitted || 0)) + ': state ' + part.before[pos[o.id]] + ' -> ' + part.after[pos[o.id]];
    if (blocked[o.id]) return (blocked[o.id].why === 'rejected' ? 'cannot come next: the model rejects it in state ' : 'allowed next, but no linearization continues from it; state ') + blocked[o.id].stateBefore;
    return 'not placed by this partial linearization';
  }
  function showTip(ev, o, part, pos, blocked) {
    tip.hidden = false;
    tip.textContent = who(o) + ': ' + o.description + '\ncall ' + ns(o.callNs) + ', return ' + ns(o.retNs) + '\n' + stateText(o, part, pos, blocked);
    tip.style.left = Math.min(ev.clientX + 14, window.innerWidth - 390) + 'px'; tip.style.top = ev.clientY + 14 + 'px';
  }
  function focus(id) {
    var part = DATA.partials[current], pos = {}, blocked = {};
    part.order.forEach(function (i, n) { pos[i] = n; });
    part.blocked.forEach(function (b) { blocked[b.id] = b; });
    Array.prototype.forEach.call(svg.querySelectorAll('.op.focus'), function (g) { g.classList.remove('focus'); });
    var g = svg.querySelector('.op[data-id="' + id + '"]'), o = byId[id];
    if (g) g.classList.add('focus');
    if (o) {
      var sc = document.getElementById('scroll');
      sc.scrollLeft = Math.max(0, x(o.callAt) - sc.clientWidth / 2);
      sc.scrollTop = Math.max(0, TOP + rowOf[o.process] * ROW - sc.clientHeight / 2);
    }
    var h = '<h2>' + (blocked[id] ? 'First error' : 'Operation') + '</h2>';
    if (o) h += '<p><b>' + esc(who(o)) + '</b>: <code>' + esc(o.description) + '</code><br>call ' + ns(o.callNs) + ', return ' + ns(o.retNs) + '</p><p>' + esc(stateText(o, part, pos, blocked)) + '</p>';
    h += explainRead(o, part);
    h += '<h2>After ' + (part.order.length + (part.omitted || 0)) + ' linearized operations</h2><p>state <code>' + esc(part.state) + '</code>; none of these can come next:</p><ul>';
    part.blocked.forEach(function (b) { var bo = byId[b.id]; h += '<li><code>' + esc(bo ? 'p' + bo.process + ' ' + bo.description : '#' + b.id) + '</code> ' + (b.why === 'rejected' ? 'rejected' : 'leads nowhere') + '</li>'; });
    h += '</ul><h2>Last steps</h2><ol start="' + Math.max(1, part.order.length - 9 + (part.omitted || 0)) + '">';
    part.order.slice(-10).forEach(function (sid, i, arr) { var so = byId[sid], k = part.order.length - arr.length + i; h += '<li><code>' + esc(so ? 'p' + so.process + ' ' + so.description : '#' + sid) + '</code> ' + esc(part.before[k]) + ' &rarr; ' + esc(part.after[k]) + '</li>'; });
    details.innerHTML = h + '</ol>';
  }
  // For a rejected read: when was the value it returned current, and which step replaced it.
  function explainRead(o, part) {
    if (!o || o.description.indexOf('get -> ') !== 0) return '';
    var seen = o.description.slice(7), k = part.after.lastIndexOf(seen);
    if (k < 0 || k + 1 >= part.order.length) return '<p>No linearized step produced the value ' + esc(seen) + '.</p>';
    var w = byId[part.order[k + 1]], n = k + 2 + (part.omitted || 0);
    if (!w) return '';
    var before = w.retNs !== null && w.retNs < o.callNs;
    return '<p>It read ' + esc(seen) + ', which step ' + (n - 1) + ' left and step ' + n + ' (<code>p' + w.process + ' ' + esc(w.description) + '</code>) replaced' +
      (before ? '; that write returned at ' + ns(w.retNs) + ', before this read was called: a <b>stale read</b>.' : '.') + '</p>';
  }
  function firstError() {
    var part = DATA.partials[current]; if (!part) return;
    var rejected = part.blocked.filter(function (b) { return b.why === 'rejected' && byId[b.id]; });
    var pick = (rejected[0] || part.blocked.filter(function (b) { return byId[b.id]; })[0]);
    if (pick) focus(pick.id);
  }
  var holder = document.getElementById('partials');
  if (DATA.partials.length > 1) DATA.partials.forEach(function (_, i) {
    var b = document.createElement('button'); b.type = 'button'; b.textContent = 'linearization ' + (i + 1);
    b.addEventListener('click', function () { current = i; Array.prototype.forEach.call(holder.children, function (c, j) { c.classList.toggle('on', j === i); }); draw(); firstError(); });
    if (i === 0) b.classList.add('on'); holder.appendChild(b);
  });
  document.getElementById('jump').addEventListener('click', firstError);
  draw();
})();
`;
