import { Decisions, Graph } from '../graphs/graph';
import { BOND_TYPES, typesOf } from '../graphs/molecule';
import { decodeDecisions } from '../graphs/sequence';
import { layoutGraph } from './layout';
import { escapeXml, graphElements } from './svg';

export interface AnimationOptions {
  readonly title?: string;
  /** Milliseconds between frames while playing. */
  readonly intervalMs?: number;
  /** Typed graphs: node v's label instead of its id (a molecule's atom type, e.g. "N+"). */
  readonly nodeLabels?: readonly string[];
  /** Typed graphs: the type name of the edge {u, v}; a bond type is drawn as 1, 2 or 3 lines. */
  readonly edgeType?: (u: number, v: number) => string;
}

/** What the picture shows after a decision: the first `nodes` nodes and `edges` edges. */
interface Frame {
  readonly nodes: number;
  readonly edges: number;
  /** The node being connected, highlighted; -1 for none. */
  readonly active: number;
  /** Whether edge `edges - 1` has just been added, highlighted. */
  readonly freshEdge: boolean;
  readonly caption: string;
}

const SIZE = 480;

/**
 * A self-contained HTML page (inline SVG, inline script, no network) that replays `seq` one
 * decision per frame, as the DGL DGMG tutorial's animation does: a node appears on "add node",
 * an edge on the choice of its destination. Nodes sit where the finished graph's layout puts
 * them, so nothing moves. Play/pause, step, back, reset and a slider drive it; it starts playing.
 * The body's data-frame attribute holds the frame shown, data-error the first script error, so
 * a headless browser can check that it ran. Throws SequenceError for a malformed sequence.
 */
export function renderGenerationHtml(seq: Decisions, opts: AnimationOptions = {}): string {
  const g = decodeDecisions(seq);
  const title = opts.title ?? `DGMG generation: ${g.numNodes} nodes, ${g.edges.length} edges`;
  const interval = opts.intervalMs ?? 700;
  if (!(interval > 0)) throw new Error(`renderGenerationHtml: intervalMs must be > 0, got ${interval}`);
  const { nodeLabels, edgeType } = opts;
  const frames = framesOf(g, nodeLabels, edgeType);
  const drawing = graphElements(g, layoutGraph(g), { x: 10, y: 10, size: SIZE - 20 }, {
    edgeAttrs: () => 'class="edge"',
    nodeAttrs: () => 'class="node"',
    labels: true,
    nodeLabels,
    edgeLines: edgeType ? (k) => Math.max(1, BOND_TYPES.indexOf(edgeType(g.edges[k][0], g.edges[k][1])) + 1) : undefined,
  });
  // JSON inside <script> must not contain "</script"; escaping every "<" rules that out.
  const framesJson = JSON.stringify(frames).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(title)}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
svg { border: 1px solid #ccc; background: white; }
.edge { stroke: #555; stroke-width: 2; }
.edge.fresh { stroke: #e65100; stroke-width: 4; }
.node circle { fill: #1f77b4; stroke: #0d3c61; stroke-width: 1.5; }
.node.active circle { fill: #ff9800; }
.node text { fill: white; pointer-events: none; }
.hidden { visibility: hidden; }
#caption { font-size: 18px; margin: 12px 0; min-height: 1.4em; }
button { font-size: 15px; margin-right: 6px; }
</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<svg xmlns="http://www.w3.org/2000/svg" id="graph" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}">
${drawing}
</svg>
<div id="caption"></div>
<div>
<button id="reset" type="button">Reset</button>
<button id="back" type="button">&#9664; Back</button>
<button id="play" type="button">Pause</button>
<button id="step" type="button">Step &#9654;</button>
<input id="scrub" type="range" min="0" max="${frames.length - 1}" value="0">
</div>
<script>
(function () {
  'use strict';
  window.addEventListener('error', function (e) {
    if (!document.body.hasAttribute('data-error')) document.body.setAttribute('data-error', String(e.message));
  });
  var frames = ${framesJson};
  var nodes = document.querySelectorAll('#graph .node');
  var edges = document.querySelectorAll('#graph .edge');
  var caption = document.getElementById('caption');
  var scrub = document.getElementById('scrub');
  var playButton = document.getElementById('play');
  var current = 0;
  var timer = null;

  function show(k) {
    current = k;
    var f = frames[k];
    for (var v = 0; v < nodes.length; v++) {
      nodes[v].classList.toggle('hidden', v >= f.nodes);
      nodes[v].classList.toggle('active', v === f.active);
    }
    for (var e = 0; e < edges.length; e++) {
      edges[e].classList.toggle('hidden', e >= f.edges);
      edges[e].classList.toggle('fresh', f.freshEdge && e === f.edges - 1);
    }
    caption.textContent = f.caption;
    scrub.value = String(k);
    document.body.setAttribute('data-frame', String(k));
  }
  function pause() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    playButton.textContent = 'Play';
  }
  function advance() {
    if (current < frames.length - 1) show(current + 1);
    if (current === frames.length - 1) pause();
  }
  function play() {
    if (current === frames.length - 1) show(0);
    pause();
    timer = setInterval(advance, ${interval});
    playButton.textContent = 'Pause';
  }
  playButton.addEventListener('click', function () { if (timer === null) play(); else pause(); });
  document.getElementById('step').addEventListener('click', function () { pause(); advance(); });
  document.getElementById('back').addEventListener('click', function () { pause(); if (current > 0) show(current - 1); });
  document.getElementById('reset').addEventListener('click', function () { pause(); show(0); });
  scrub.addEventListener('input', function () { pause(); show(Number(scrub.value)); });
  document.body.setAttribute('data-frames', String(frames.length));
  show(0);
  play();
})();
</script>
</body>
</html>
`;
}

/**
 * Frame 0 is the empty graph and frame k the state after decision k. The decoded graph lists its
 * edges [i, d] in sequence order, grouped by the new node i, which is all the replay needs.
 */
function framesOf(g: Graph, nodeLabels?: readonly string[], edgeType?: (u: number, v: number) => string): Frame[] {
  const node = (v: number): string => (nodeLabels ? `${nodeLabels[v]} (node ${v})` : `node ${v}`);
  const total = 2 * g.numNodes + 2 * g.edges.length + 1;
  const frames: Frame[] = [];
  const push = (nodes: number, edges: number, active: number, freshEdge: boolean, text: string): void => {
    frames.push({ nodes, edges, active, freshEdge, caption: frames.length === 0 ? text : `decision ${frames.length}/${total}: ${text}` });
  };
  push(0, 0, -1, false, `start: the empty graph (${total} decisions to come)`);
  let e = 0;
  for (let i = 0; i < g.numNodes; i++) {
    push(i + 1, e, i, false, `add a node? yes: ${node(i)}`);
    while (e < g.edges.length && g.edges[e][0] === i) {
      const [u, d] = g.edges[e];
      push(i + 1, e, i, false, `add an edge from ${node(i)}? yes${edgeType ? `: ${edgeType(u, d)}` : ''}`);
      e++;
      push(i + 1, e, i, true, `connect ${node(i)} to ${node(d)}`);
    }
    push(i + 1, e, i, false, `add an edge from ${node(i)}? no`);
  }
  push(g.numNodes, e, -1, false, `add a node? no: done, ${g.numNodes} nodes and ${e} edges`);
  return frames;
}

/** Animation options that label a typed graph's nodes by type name (a molecule's elements) and draw its bond orders. */
export function typedAnimationOptions(g: Graph, names: { readonly nodeTypes: readonly string[]; readonly edgeTypes: readonly string[] }): Pick<AnimationOptions, 'nodeLabels' | 'edgeType'> {
  const { nodeTypes, edgeTypes } = typesOf(g);
  const byPair = new Map<number, string>();
  g.edges.forEach(([u, v], k) => byPair.set(Math.min(u, v) * g.numNodes + Math.max(u, v), names.edgeTypes[edgeTypes[k]]));
  return {
    nodeLabels: nodeTypes.map((t) => names.nodeTypes[t]),
    edgeType: (u, v) => byPair.get(Math.min(u, v) * g.numNodes + Math.max(u, v)) ?? '',
  };
}
