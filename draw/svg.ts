import { Graph } from '../graphs/graph';
import { BOND_TYPES } from '../graphs/molecule';
import { Point, layoutGraph } from './layout';

const SVG_NS = 'http://www.w3.org/2000/svg';
const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const VALID_COLOUR = '#2e7d32';
const INVALID_COLOUR = '#c62828';
const NEUTRAL_COLOUR = '#9e9e9e';
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];

/** Text made safe for XML character data and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`);
}

/** A coordinate with one decimal: enough for screen pixels, and short files. */
function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** Where in the picture a graph drawing goes: a square with its top-left corner at (x, y). */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly size: number;
}

/** A node radius that keeps the two closest nodes apart when the unit square is drawn `size` pixels wide. */
function nodeRadius(points: readonly Point[], size: number): number {
  let closest = 1;
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) closest = Math.min(closest, Math.hypot(points[i].x - points[j].x, points[i].y - points[j].y));
  }
  // The drawable width is size minus two radii; r = k (size - 2r) with k = 0.3 closest solves to this.
  const k = 0.3 * closest;
  return Math.max(1.2, Math.min(size / 20, (k * size) / (1 + 2 * k)));
}

export interface GraphElementOptions {
  /** Extra attributes for edge k's <line>, e.g. a class or an id. */
  readonly edgeAttrs?: (k: number) => string;
  /** Extra attributes for node v's element: its <circle>, or the <g> holding circle and label. */
  readonly nodeAttrs?: (v: number) => string;
  /** Write each node's id inside its circle. */
  readonly labels?: boolean;
  /** Write these instead of the ids (e.g. elements); implies labels. */
  readonly nodeLabels?: readonly string[];
  /** Parallel lines drawn for edge k (a bond's order); 1 when left out. */
  readonly edgeLines?: (k: number) => number;
}

/**
 * Element options that show a typed graph's types: its node type names as labels, and as many
 * lines per edge as the bond order its edge type names (one for any other type).
 */
export function typedGraphOptions(g: Graph, names: { readonly nodeTypes: readonly string[]; readonly edgeTypes: readonly string[] }): GraphElementOptions {
  return {
    nodeLabels: g.nodeTypes?.map((t) => names.nodeTypes[t] ?? String(t)),
    edgeLines: (k) => (g.edgeTypes ? Math.max(1, BOND_TYPES.indexOf(names.edgeTypes[g.edgeTypes[k]]) + 1) : 1),
  };
}

/**
 * The <line> for every edge (in edge-list order) and then one <circle> for every node (in id
 * order), so nodes are painted over edges. `points` are in the unit square and are mapped into
 * `box` inside a margin of one radius.
 */
export function graphElements(g: Graph, points: readonly Point[], box: Box, opts: GraphElementOptions = {}): string {
  const r = nodeRadius(points, box.size);
  const inner = box.size - 2 * (r + 1);
  const at = (p: Point): [number, number] => [box.x + r + 1 + p.x * inner, box.y + r + 1 + p.y * inner];
  const extra = (attrs: ((i: number) => string) | undefined, i: number): string => (attrs ? ` ${attrs(i)}` : '');
  const labels = opts.labels || opts.nodeLabels !== undefined;
  const lines = g.edges.map(([u, v], k) => {
    const [x1, y1] = at(points[u]);
    const [x2, y2] = at(points[v]);
    const count = opts.edgeLines?.(k) ?? 1;
    if (count === 1) return `<line x1="${px(x1)}" y1="${px(y1)}" x2="${px(x2)}" y2="${px(y2)}"${extra(opts.edgeAttrs, k)}/>`;
    // A double or triple bond: parallel lines a third of a radius apart, grouped as one edge.
    const length = Math.hypot(x2 - x1, y2 - y1) || 1;
    const [nx, ny] = [((y1 - y2) / length) * r * 0.35, ((x2 - x1) / length) * r * 0.35];
    const parallel = Array.from({ length: count }, (_, i) => {
      const s = i - (count - 1) / 2;
      return `<line x1="${px(x1 + s * nx)}" y1="${px(y1 + s * ny)}" x2="${px(x2 + s * nx)}" y2="${px(y2 + s * ny)}"/>`;
    });
    return `<g${extra(opts.edgeAttrs, k)}>${parallel.join('')}</g>`;
  });
  const nodes = points.map((p, v) => {
    const [cx, cy] = at(p);
    const circle = `<circle cx="${px(cx)}" cy="${px(cy)}" r="${px(r)}"${labels ? '' : extra(opts.nodeAttrs, v)}/>`;
    if (!labels) return circle;
    const text = opts.nodeLabels?.[v] ?? String(v);
    const label = `<text x="${px(cx)}" y="${px(cy + r * 0.35)}" text-anchor="middle" font-size="${px(text.length > 2 ? r * 0.7 : r)}" fill="white" stroke="none" ${FONT}>${escapeXml(text)}</text>`;
    return `<g${extra(opts.nodeAttrs, v)}>${circle}${label}</g>`;
  });
  return [...lines, ...nodes].join('\n');
}

export interface GridOptions {
  /** Entry i marks graph i valid (green frame) or invalid (red frame); no marks when left out. */
  readonly valid?: readonly boolean[];
  readonly columns?: number;
  readonly title?: string;
  /**
   * Entry i: a standalone SVG document drawn in graph i's cell instead of its nodes and edges
   * (e.g. RDKit's depiction of a molecule); null or left out: the nodes and edges.
   */
  readonly drawings?: readonly (string | null)[];
  /** Entry i: the options graph i's nodes and edges are drawn with (e.g. typedGraphOptions). */
  readonly elements?: (i: number) => GraphElementOptions;
  /** Entry i: graph i's caption instead of its node and edge counts. */
  readonly captions?: readonly string[];
}

/**
 * A standalone SVG document placed in `box` as a nested <svg>: its XML declaration dropped, its
 * own width and height replaced by the box's (its viewBox scales the drawing).
 */
export function nestedSvg(doc: string, box: Box): string {
  const body = doc.replace(/^\s*<\?xml[^>]*\?>\s*/, '');
  const open = /^<svg\b[^>]*>/.exec(body);
  if (!open) throw new Error('nestedSvg: the document does not start with an <svg> element');
  const tag = open[0].replace(/\s(?:width|height|x|y)=(?:'[^']*'|"[^"]*")/g, '').replace(/>$/, ` x="${px(box.x)}" y="${px(box.y)}" width="${px(box.size)}" height="${px(box.size)}">`);
  return tag + body.slice(open[0].length).replace(/\s+$/, '');
}

const CELL = 180;
const CAPTION = 22;
const GAP = 10;
const TITLE = 34;

/**
 * A standalone SVG of `graphs` drawn in a grid, each in its own frame with a caption. A graph
 * drawn as nodes and edges has exactly one <circle> per node and, with one line per edge (the
 * default), one <line> per edge, so the picture can be checked by counting.
 */
export function renderGraphGridSvg(graphs: readonly Graph[], opts: GridOptions = {}): string {
  const { valid, title } = opts;
  if (valid !== undefined && valid.length !== graphs.length) {
    throw new Error(`renderGraphGridSvg: ${valid.length} validity marks for ${graphs.length} graphs`);
  }
  const columns = opts.columns ?? Math.max(1, Math.ceil(Math.sqrt(graphs.length)));
  if (!Number.isInteger(columns) || columns < 1) throw new Error(`renderGraphGridSvg: columns must be an integer >= 1, got ${columns}`);
  const rows = Math.ceil(graphs.length / columns);
  const top = title === undefined ? GAP : TITLE;
  const width = GAP + columns * (CELL + GAP);
  const height = top + rows * (CELL + CAPTION + GAP);
  const cells = graphs.map((g, i) => {
    const x = GAP + (i % columns) * (CELL + GAP);
    const y = top + Math.floor(i / columns) * (CELL + CAPTION + GAP);
    const mark = valid === undefined ? undefined : valid[i];
    const colour = mark === undefined ? NEUTRAL_COLOUR : mark ? VALID_COLOUR : INVALID_COLOUR;
    const verdict = mark === undefined ? '' : mark ? ' · valid' : ' · invalid';
    const caption = `#${i + 1}: ${opts.captions?.[i] ?? `${g.numNodes} nodes, ${g.edges.length} edges`}${verdict}`;
    const box = { x: x + 8, y: y + 8, size: CELL - 16 };
    const drawing = opts.drawings?.[i];
    return [
      `<g class="graph${mark === undefined ? '' : mark ? ' valid' : ' invalid'}">`,
      `<rect x="${x}" y="${y}" width="${CELL}" height="${CELL + CAPTION}" rx="6" fill="white" stroke="${colour}" stroke-width="${mark === undefined ? 1 : 2.5}"/>`,
      drawing
        ? nestedSvg(drawing, box)
        : [`<g stroke="#555" stroke-width="1.2" fill="#1f77b4">`, graphElements(g, layoutGraph(g), box, opts.elements?.(i)), `</g>`].join('\n'),
      `<text x="${x + CELL / 2}" y="${y + CELL + CAPTION - 8}" text-anchor="middle" font-size="11" ${FONT} fill="${mark === undefined ? '#333' : colour}">${escapeXml(caption)}</text>`,
      `</g>`,
    ].join('\n');
  });
  return svgDocument(width, height, [
    title === undefined ? '' : `<text x="${width / 2}" y="23" text-anchor="middle" font-size="16" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`,
    ...cells,
  ]);
}

export interface CurveSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  /** Which y axis the series is read against; the right one appears only when a series uses it. */
  readonly axis?: 'left' | 'right';
}

export interface CurveOptions {
  readonly xLabel: string;
  readonly yLabel: string;
  readonly title: string;
  /** The right y axis' label (e.g. validity next to a loss). */
  readonly y2Label?: string;
}

const CHART_W = 720;
const CHART_H = 440;

/**
 * A standalone SVG line chart: one <polyline> per series with at least one finite point, axes
 * with rounded ticks, a legend. Non-finite points (a NaN loss) are left out.
 */
export function renderCurveSvg(series: readonly CurveSeries[], opts: CurveOptions): string {
  const finite = series.map((s) => ({ ...s, points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)) }));
  const onRight = (s: CurveSeries): boolean => s.axis === 'right';
  const hasRight = finite.some(onRight);
  const margin = { left: 72, right: hasRight ? 72 : 28, top: 64, bottom: 56 };
  const plotW = CHART_W - margin.left - margin.right;
  const plotH = CHART_H - margin.top - margin.bottom;
  const xs = niceAxis(finite.flatMap((s) => s.points.map(([x]) => x)));
  const yLeft = niceAxis(finite.filter((s) => !onRight(s)).flatMap((s) => s.points.map(([, y]) => y)));
  const yRight = niceAxis(finite.filter(onRight).flatMap((s) => s.points.map(([, y]) => y)));
  const sx = (x: number): number => margin.left + ((x - xs.lo) / (xs.hi - xs.lo)) * plotW;
  const sy = (y: number, axis: NiceAxis): number => margin.top + plotH - ((y - axis.lo) / (axis.hi - axis.lo)) * plotH;
  const bottom = margin.top + plotH;
  const right = margin.left + plotW;

  const parts: string[] = [
    `<text x="${CHART_W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold" ${FONT}>${escapeXml(opts.title)}</text>`,
    `<g stroke="#e0e0e0" stroke-width="1">`,
    ...yLeft.ticks.map((t) => `<line x1="${margin.left}" y1="${px(sy(t, yLeft))}" x2="${right}" y2="${px(sy(t, yLeft))}"/>`),
    `</g>`,
    `<g stroke="#333" stroke-width="1">`,
    `<line x1="${margin.left}" y1="${bottom}" x2="${right}" y2="${bottom}"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${bottom}"/>`,
    hasRight ? `<line x1="${right}" y1="${margin.top}" x2="${right}" y2="${bottom}"/>` : '',
    `</g>`,
    `<g font-size="11" ${FONT} fill="#333">`,
    ...xs.ticks.map((t) => `<text x="${px(sx(t))}" y="${bottom + 16}" text-anchor="middle">${xs.format(t)}</text>`),
    ...yLeft.ticks.map((t) => `<text x="${margin.left - 6}" y="${px(sy(t, yLeft) + 4)}" text-anchor="end">${yLeft.format(t)}</text>`),
    ...(hasRight ? yRight.ticks.map((t) => `<text x="${right + 6}" y="${px(sy(t, yRight) + 4)}">${yRight.format(t)}</text>`) : []),
    `</g>`,
    `<g font-size="13" ${FONT}>`,
    `<text x="${margin.left + plotW / 2}" y="${CHART_H - 14}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`,
    axisLabel(opts.yLabel, 18, margin.top + plotH / 2),
    hasRight ? axisLabel(opts.y2Label ?? '', CHART_W - 12, margin.top + plotH / 2) : '',
    `</g>`,
  ];
  let legendX = margin.left;
  finite.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const dash = onRight(s) ? ' stroke-dasharray="6 3"' : '';
    if (s.points.length > 0) {
      const axis = onRight(s) ? yRight : yLeft;
      const pts = s.points.map(([x, y]) => `${px(sx(x))},${px(sy(y, axis))}`).join(' ');
      parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${pts}"/>`);
    }
    const label = `${s.name}${hasRight ? (onRight(s) ? ' (right)' : ' (left)') : ''}`;
    parts.push(
      `<line x1="${legendX}" y1="44" x2="${legendX + 24}" y2="44" stroke="${colour}" stroke-width="2"${dash}/>`,
      `<text x="${legendX + 30}" y="48" font-size="12" ${FONT}>${escapeXml(label)}</text>`,
    );
    legendX += 44 + 7 * label.length;
  });
  return svgDocument(CHART_W, CHART_H, parts);
}

function axisLabel(text: string, x: number, y: number): string {
  return `<text x="${x}" y="${px(y)}" text-anchor="middle" transform="rotate(-90 ${x} ${px(y)})">${escapeXml(text)}</text>`;
}

interface NiceAxis {
  readonly lo: number;
  readonly hi: number;
  readonly ticks: number[];
  format(v: number): string;
}

/** A range covering `values` with ends on ticks 1, 2 or 5 times a power of ten, about five of them. */
function niceAxis(values: readonly number[]): NiceAxis {
  // Loops, not Math.min(...): a long run's curve has more points than a call can take as arguments.
  let lo = values.length === 0 ? 0 : values.reduce((m, v) => Math.min(m, v), Infinity);
  let hi = values.length === 0 ? 1 : values.reduce((m, v) => Math.max(m, v), -Infinity);
  if (hi === lo) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) / 2 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const first = Math.floor(lo / step);
  const last = Math.ceil(hi / step);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const ticks = Array.from({ length: last - first + 1 }, (_, k) => (first + k) * step);
  return { lo: first * step, hi: last * step, ticks, format: (v) => v.toFixed(decimals) };
}

function svgDocument(width: number, height: number, body: readonly string[]): string {
  return [
    `<svg xmlns="${SVG_NS}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
    ...body.filter((part) => part !== ''),
    `</svg>`,
    '',
  ].join('\n');
}
