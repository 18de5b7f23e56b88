/**
 * A command's result as aligned text for a person (`--json` prints the object itself). The layout
 * follows the data, so a field a command adds to its result shows up without code here:
 *
 * - a number, string, boolean or null is a row `label  value`;
 * - a list of numbers under a key ending in "histogram" is its non-zero entries `k:count`, other
 *   lists of numbers or strings are written out, wrapped under the value column;
 * - a list of objects is a table, one column per key;
 * - an object is a section of indented rows, and an object holding two or more objects of
 *   scalars that share a key is a table: their keys are the rows, they are the columns.
 *
 * Numbers are rounded to SIGNIFICANT digits; labels come from LABELS, else from the key itself
 * (`meanNodes` becomes "mean nodes").
 */

const SIGNIFICANT = 4;

/** Text width at which lists wrap. */
const WIDTH = 100;

/** Labels of keys whose spelt-out camelCase would not say what they are. */
const LABELS: Readonly<Record<string, string>> = {
  heldOutNll: 'held-out NLL (nats)',
  testGraphs: 'test graphs',
  graphsPerSecond: 'graphs/s',
  finalLoss: 'final loss (nats)',
  totalVariation: 'total variation distance',
  maxAtoms: 'max atoms',
  tooLarge: 'too large',
  outsideTypes: 'outside the types',
  notRepresentable: 'not representable',
  fragmented: 'several fragments',
  vun: 'V.U.N.',
};

type Scalar = number | string | boolean | null;

const isScalar = (x: unknown): x is Scalar => x === null || ['number', 'string', 'boolean'].includes(typeof x);
const isRecord = (x: unknown): x is Readonly<Record<string, unknown>> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isScalarRecord = (x: unknown): x is Readonly<Record<string, Scalar>> => isRecord(x) && Object.values(x).every((v) => v === undefined || isScalar(v));

/** A key as a person reads it: LABELS, else camelCase spelt out in lower case; other keys as they are. */
export function label(key: string): string {
  if (LABELS[key] !== undefined) return LABELS[key];
  if (!/^[a-z][a-zA-Z0-9]*$/.test(key)) return key;
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

/** A value rounded for reading: integers whole, others to SIGNIFICANT digits (below 0.001 as 1.234e-5), null as "-". */
export function formatValue(x: unknown): string {
  if (x === null || x === undefined) return '-';
  if (typeof x === 'number') {
    if (Number.isInteger(x) || !Number.isFinite(x)) return String(x);
    return Math.abs(x) < 1e-3 ? x.toExponential(SIGNIFICANT - 1).replace(/\.?0+e/, 'e') : String(Number(x.toPrecision(SIGNIFICANT)));
  }
  if (typeof x === 'boolean') return x ? 'yes' : 'no';
  if (Array.isArray(x)) return x.map(formatValue).join(', ');
  if (typeof x === 'object') return JSON.stringify(x);
  return String(x);
}

/** One line of output before alignment: a row, a section's title, or a line of a table. */
type Line = { kind: 'row'; depth: number; label: string; value: string } | { kind: 'title'; depth: number; label: string } | { kind: 'text'; depth: number; text: string };

/** Cells laid out in columns: the first left-aligned, numbers right-aligned. */
function tableLines(depth: number, header: readonly string[], rows: readonly (readonly unknown[])[]): Line[] {
  const cells = rows.map((r) => r.map(formatValue));
  const widths = header.map((h, j) => Math.max(h.length, ...cells.map((r) => r[j].length)));
  const numeric = header.map((_, j) => j > 0 && rows.every((r) => typeof r[j] === 'number' || r[j] === null || r[j] === undefined));
  const line = (r: readonly string[]): Line => ({ kind: 'text', depth, text: r.map((c, j) => (numeric[j] ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join('  ').trimEnd() });
  return [line(header), ...cells.map(line)];
}

const isHistogram = (key: string): boolean => /histogram$/i.test(key);

/** The keys of `records` in first-seen order. */
function keysOf(records: readonly Readonly<Record<string, unknown>>[]): string[] {
  return [...new Set(records.flatMap((r) => Object.keys(r)))];
}

/** The lines of `o`'s entries; `inHistogram`: `o` is a histogram's section, so its lists are histograms. */
function linesOf(o: Readonly<Record<string, unknown>>, depth: number, inHistogram: boolean): Line[] {
  const out: Line[] = [];
  const entries = Object.entries(o).filter(([, v]) => v !== undefined);
  const columns = entries.filter(([, v]) => isScalarRecord(v) && Object.keys(v).length > 0) as Array<[string, Readonly<Record<string, Scalar>>]>;
  const asTable = columns.length >= 2 && keysOf(columns.map(([, v]) => v)).length < columns.reduce((s, [, v]) => s + Object.keys(v).length, 0);
  for (const [key, v] of entries) {
    if (asTable && columns.some(([k]) => k === key)) continue;
    if (isScalar(v)) out.push({ kind: 'row', depth, label: label(key), value: formatValue(v) });
    else if (Array.isArray(v) && v.every(isRecord)) {
      out.push({ kind: 'title', depth, label: label(key) });
      const keys = keysOf(v);
      out.push(...tableLines(depth + 1, keys.map(label), v.map((r) => keys.map((k) => r[k]))));
    } else if (Array.isArray(v)) {
      const histogram = (inHistogram || isHistogram(key)) && v.every((x) => typeof x === 'number');
      const items = histogram ? v.flatMap((x: number, k) => (x === 0 ? [] : [`${k}:${x}`])) : v.map(formatValue);
      out.push({ kind: 'row', depth, label: label(key), value: items.join(histogram ? ' ' : ', ') });
    } else if (isRecord(v)) {
      out.push({ kind: 'title', depth, label: label(key) }, ...linesOf(v, depth + 1, inHistogram || isHistogram(key)));
    } else out.push({ kind: 'row', depth, label: label(key), value: formatValue(v) });
  }
  if (asTable) {
    const rows = keysOf(columns.map(([, v]) => v));
    out.push(...tableLines(depth, ['', ...columns.map(([k]) => label(k))], rows.map((r) => [label(r), ...columns.map(([, v]) => v[r] ?? null)])));
  }
  return out;
}

/** `text` broken at spaces into lines of at most `width` characters (a longer word stays whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

/** `result` as aligned text, ending in a newline; see the top of this file for the layout. */
export function formatReport(result: object): string {
  const lines = linesOf(result as Readonly<Record<string, unknown>>, 0, false);
  const indent = (depth: number): string => '  '.repeat(depth);
  const labelWidth = Math.max(0, ...lines.map((l) => (l.kind === 'row' ? indent(l.depth).length + l.label.length : 0)));
  const valueWidth = Math.max(20, WIDTH - labelWidth - 2);
  return lines
    .map((l) => {
      if (l.kind === 'title') return `${indent(l.depth)}${l.label}`;
      if (l.kind === 'text') return `${indent(l.depth)}${l.text}`;
      const [first, ...rest] = wrap(l.value, valueWidth);
      const head = `${indent(l.depth)}${l.label}`.padEnd(labelWidth);
      return [`${head}  ${first}`.trimEnd(), ...rest.map((r) => `${' '.repeat(labelWidth + 2)}${r}`)].join('\n');
    })
    .map((l) => `${l}\n`)
    .join('');
}
