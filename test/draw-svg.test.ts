import t from 'tap';
import { Graph } from '../graphs/graph';
import { cycleGraph, gridGraph, makeFamily } from '../graphs/families';
import { Rng } from '../graphs/random';
import { SequenceError, encodeGraph } from '../graphs/sequence';
import { layoutGraph } from '../draw/layout';
import { escapeXml, renderCurveSvg, renderGraphGridSvg } from '../draw/svg';
import { renderGenerationHtml } from '../draw/animate';
import { checkXml } from './xml';

const count = (counts: Map<string, number>, name: string): number => counts.get(name) ?? 0;

t.test('the XML check itself catches what it should', async (t) => {
  t.same([...checkXml('<a x="1"><b/><b></b></a>\n')], [['a', 1], ['b', 2]]);
  t.throws(() => checkXml('<a><b></a></b>'));
  t.throws(() => checkXml('<a/><a/>'));
  t.throws(() => checkXml('<a>x & y</a>'));
  t.throws(() => checkXml('<a>x < y</a>'));
  t.throws(() => checkXml('<a x=1/>'));
  t.throws(() => checkXml('<a>'));
});

t.test('layout: in the unit square, deterministic, cycles as rings', async (t) => {
  const rng = new Rng(1);
  for (const k of [3, 10, 20]) {
    const perm = rng.permutation(k);
    const shuffled: Graph = { numNodes: k, edges: cycleGraph(k).edges.map(([u, v]) => [perm[u], perm[v]] as const) };
    const points = layoutGraph(shuffled);
    t.same(layoutGraph(shuffled), points, 'the same every time');
    const cx = points.reduce((s, p) => s + p.x, 0) / k;
    const cy = points.reduce((s, p) => s + p.y, 0) / k;
    const radii = points.map((p) => Math.hypot(p.x - cx, p.y - cy));
    t.ok(Math.max(...radii) - Math.min(...radii) < 0.01, `C${k} lies on a circle`);
    // Neighbours along the cycle are all the same distance apart.
    const gaps = shuffled.edges.map(([u, v]) => Math.hypot(points[u].x - points[v].x, points[u].y - points[v].y));
    t.ok(Math.max(...gaps) - Math.min(...gaps) < 0.01, `C${k} evenly spaced`);
  }
  // A grid comes out axis-aligned: its x values fall in 3 or 4 tight groups and its y values in the other number.
  const grid = layoutGraph(gridGraph(4, 3));
  const groups = (vs: number[]): number => {
    const sorted = [...vs].sort((a, b) => a - b);
    return 1 + sorted.filter((v, i) => i > 0 && v - sorted[i - 1] > 0.1).length;
  };
  t.equal(groups(grid.map((p) => p.x)) * groups(grid.map((p) => p.y)), 12);
  for (const g of [makeFamily('community').sample(rng), { numNodes: 6, edges: [[0, 1] as const] }, { numNodes: 1, edges: [] }]) {
    const points = layoutGraph(g);
    t.equal(points.length, g.numNodes);
    t.ok(points.every((p) => p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1 && Number.isFinite(p.x + p.y)));
  }
  t.same(layoutGraph({ numNodes: 0, edges: [] }), []);
});

t.test('graph grid: well-formed, one circle per node and one line per edge, validity marked', async (t) => {
  const rng = new Rng(2);
  const graphs = [cycleGraph(10), makeFamily('trees').sample(rng), gridGraph(3, 4), { numNodes: 0, edges: [] }, { numNodes: 3, edges: [] }];
  const svg = renderGraphGridSvg(graphs, { valid: [true, false, true, false, true], title: 'Samples <&> "x"' });
  const counts = checkXml(svg);
  t.equal(count(counts, 'svg'), 1);
  t.equal(count(counts, 'circle'), graphs.reduce((s, g) => s + g.numNodes, 0));
  t.equal(count(counts, 'line'), graphs.reduce((s, g) => s + g.edges.length, 0));
  t.equal(svg.match(/class="graph valid"/g)?.length, 3);
  t.equal(svg.match(/class="graph invalid"/g)?.length, 2);
  t.match(svg, /· valid</);
  t.match(svg, /Samples &lt;&amp;&gt; &quot;x&quot;/);
  t.equal(escapeXml(`<a & "b" 'c'>`), '&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;');
  const unmarked = renderGraphGridSvg([cycleGraph(4)]);
  checkXml(unmarked);
  t.notMatch(unmarked, /valid/);
  t.match(unmarked, /width="200"/, 'one column for one graph');
  t.match(renderGraphGridSvg(graphs, { columns: 2 }), /width="390"/);
  checkXml(renderGraphGridSvg([]));
  t.throws(() => renderGraphGridSvg(graphs, { valid: [true] }), /5 graphs/);
  t.throws(() => renderGraphGridSvg(graphs, { columns: 0 }), /columns/);
});

t.test('curve chart: well-formed, one polyline per series with points, non-finite points dropped', async (t) => {
  const loss: [number, number][] = [[0, 40], [10, 20], [20, Number.NaN], [30, 8]];
  const svg = renderCurveSvg(
    [
      { name: 'loss', points: loss },
      { name: 'validity', points: [[0, 0], [30, 0.97]], axis: 'right' },
      { name: 'nothing yet', points: [] },
    ],
    { title: 'Training', xLabel: 'seconds', yLabel: 'loss', y2Label: 'validity' },
  );
  const counts = checkXml(svg);
  t.equal(count(counts, 'polyline'), 2);
  const lossLine = /<polyline[^>]*points="([^"]*)"/.exec(svg);
  t.equal(lossLine?.[1].split(' ').length, 3, 'the NaN point is left out');
  t.match(svg, /validity \(right\)/);
  const single = renderCurveSvg([{ name: 'flat', points: [[5, 2]] }], { title: 't', xLabel: 'x', yLabel: 'y' });
  checkXml(single);
  t.notMatch(single, /\(right\)|NaN|Infinity/);
  t.notMatch(renderCurveSvg([], { title: 't', xLabel: 'x', yLabel: 'y' }), /NaN|Infinity/);
});

t.test('generation animation: self-contained page, well-formed drawing, a frame per decision', async (t) => {
  const g = gridGraph(2, 3);
  const seq = encodeGraph(g);
  const html = renderGenerationHtml(seq, { title: 'a <ladder>' });
  t.match(html, /^<!DOCTYPE html>/);
  t.notMatch(html.replace(/xmlns="[^"]*"/g, ''), /\b(src|href)=|url\(|@import|https?:\/\//, 'nothing is fetched');
  t.match(html, /<title>a &lt;ladder&gt;<\/title>/);
  const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + '</svg>'.length);
  const counts = checkXml(svg);
  t.equal(count(counts, 'circle'), g.numNodes);
  t.equal(count(counts, 'line'), g.edges.length);
  const script = html.slice(html.indexOf('<script>') + '<script>'.length, html.indexOf('</script>'));
  t.doesNotThrow(() => new Function(script), 'the script parses');
  const frames = JSON.parse(/var frames = (.*);\n/.exec(script)?.[1] ?? 'null') as { nodes: number; edges: number; caption: string }[];
  t.equal(frames.length, seq.length + 1, 'the empty graph, then one frame per decision');
  t.same(frames[frames.length - 1], { nodes: 6, edges: 7, active: -1, freshEdge: false, caption: `decision ${seq.length}/${seq.length}: add a node? no: done, 6 nodes and 7 edges` });
  t.ok(frames.every((f, k) => k === 0 || (f.nodes >= frames[k - 1].nodes && f.edges >= frames[k - 1].edges)), 'nothing disappears');
  t.match(frames.map((f) => f.caption).join('\n'), /connect node 4 to node 1/);
  t.throws(() => renderGenerationHtml([0, 0, 5, 1, 1]), SequenceError);
  t.throws(() => renderGenerationHtml(seq, { intervalMs: 0 }), /intervalMs/);
  const empty = renderGenerationHtml([1]);
  t.equal(count(checkXml(empty.slice(empty.indexOf('<svg'), empty.indexOf('</svg>') + 6)), 'circle'), 0);
});
