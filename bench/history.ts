import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { escapeXml } from '../draw/svg';
import { figureName } from './guard';
import type { Row } from './throughput';

/** One full `npm run bench`: when, on what code and machine, and every figure it measured. */
export interface HistoryRecord {
  readonly date: string;
  /** Short hash of HEAD, with "+dirty" when tracked files differed from it; null outside git. */
  readonly commit: string | null;
  readonly machine: { readonly cores: number; readonly cpu: string | null };
  readonly node: string;
  readonly rows: readonly Row[];
  /** 2 workers / 1 by batch size: with q25, q75 and pairs, the median of adjacent pairs' ratios (and ceiling, two half-batch shards at once / one, beside them); without (older records), a ratio of medians. */
  readonly speedups: ReadonlyArray<{ readonly batch: number; readonly speedup: number; readonly q25?: number; readonly q75?: number; readonly pairs?: number; readonly ceiling?: number }>;
  readonly soak: { readonly seconds: number; readonly workers: number; readonly graphs: number; readonly rssMB: readonly number[] } | null;
  /** Where a record not written by the benchmark itself came from. */
  readonly note?: string;
}

export function appendHistory(file: string, record: HistoryRecord): void {
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

/** The records of a history file, oldest first; a malformed line is an error naming file and line. */
export function readHistory(file: string): HistoryRecord[] {
  if (!existsSync(file)) return [];
  const out: HistoryRecord[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (text.trim() === '') return;
      const fail = (why: string): never => {
        throw new Error(`${file}:${i + 1}: ${why}`);
      };
      let r: unknown;
      try {
        r = JSON.parse(text);
      } catch (e) {
        fail(`not JSON (${e instanceof Error ? e.message : String(e)})`);
      }
      const rec = r as Partial<HistoryRecord> | null;
      if (typeof rec !== 'object' || rec === null) return fail('not a JSON object');
      if (typeof rec.date !== 'string' || Number.isNaN(Date.parse(rec.date))) fail('no valid "date"');
      if (!Array.isArray(rec.rows)) return fail('no "rows" array');
      rec.rows.forEach((row, k) => {
        if (typeof row?.what !== 'string' || typeof row.backend !== 'string' || !Number.isFinite(row.batch) || !Number.isFinite(row.workers) || typeof row.graphsPerSecond !== 'number') {
          fail(`row ${k + 1} lacks what, backend, batch, workers or graphsPerSecond`);
        }
      });
      out.push(rec as HistoryRecord);
    });
  return out;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
const DASHES = ['', ' stroke-dasharray="7 4"', ' stroke-dasharray="2 3"'];
const px = (v: number): string => String(Math.round(v * 10) / 10);

/**
 * graphs/s of every configuration across the records: one line per configuration, runs along x
 * in order (labelled by date and commit), a log y axis (the figures span two decades, and a
 * regression reads as the same drop at any height), the legend beside the plot.
 */
export function renderHistorySvg(records: readonly HistoryRecord[]): string {
  const names: string[] = [];
  for (const r of records) for (const row of r.rows) if (!names.includes(figureName(row))) names.push(figureName(row));
  const series = names.map((name) => ({
    name,
    points: records.flatMap((r, i) => {
      const v = r.rows.find((row) => figureName(row) === name)?.graphsPerSecond;
      return v !== undefined && Number.isFinite(v) && v > 0 ? [[i, v] as const] : [];
    }),
  }));
  const values = series.flatMap((s) => s.points.map(([, v]) => v));
  // y ticks at 1, 2 and 5 times powers of ten, from the last at or under the smallest figure to
  // the first at or over the largest
  const decades = Array.from({ length: 9 }, (_, d) => 10 ** (d - 1));
  const steps = decades.flatMap((d) => [d, 2 * d, 5 * d]);
  const least = values.length ? Math.min(...values) : 1;
  const most = values.length ? Math.max(...values) : 10;
  const lo = [...steps].reverse().find((v) => v <= least) ?? steps[0];
  const top = steps.find((v) => v >= most && v > lo) ?? steps[steps.length - 1];
  const ticks = steps.filter((v) => v >= lo && v <= top);

  const legendRow = 16;
  const margin = { left: 72, right: 330, top: 56, bottom: 72 };
  const plotW = 560;
  const plotH = Math.max(300, names.length * legendRow - 24);
  const width = margin.left + plotW + margin.right;
  const height = margin.top + plotH + margin.bottom;
  const n = records.length;
  const sx = (i: number): number => margin.left + (n > 1 ? (i / (n - 1)) * (plotW - 40) + 20 : plotW / 2);
  const sy = (v: number): number => margin.top + plotH - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(top) - Math.log10(lo))) * plotH;
  const bottom = margin.top + plotH;
  const right = margin.left + plotW;
  const labelEvery = Math.max(1, Math.ceil(n / 8));

  const parts: string[] = [
    `<text x="${margin.left}" y="24" font-size="16" font-weight="bold" ${FONT}>dgmg-pipe throughput, full npm run bench runs</text>`,
    `<g stroke="#e0e0e0" stroke-width="1">`,
    ...ticks.map((t) => `<line x1="${margin.left}" y1="${px(sy(t))}" x2="${right}" y2="${px(sy(t))}"/>`),
    `</g>`,
    `<g stroke="#333" stroke-width="1">`,
    `<line x1="${margin.left}" y1="${bottom}" x2="${right}" y2="${bottom}"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${bottom}"/>`,
    `</g>`,
    `<g font-size="11" ${FONT} fill="#333">`,
    ...ticks.map((t) => `<text x="${margin.left - 6}" y="${px(sy(t) + 4)}" text-anchor="end">${t}</text>`),
    ...records.flatMap((r, i) =>
      i % labelEvery === 0 || i === n - 1
        ? [
            `<text x="${px(sx(i))}" y="${bottom + 16}" text-anchor="middle">${escapeXml(r.date.slice(0, 16).replace('T', ' '))}</text>`,
            `<text x="${px(sx(i))}" y="${bottom + 30}" text-anchor="middle">${escapeXml(r.commit ?? 'no commit')}</text>`,
          ]
        : [],
    ),
    `</g>`,
    `<g font-size="13" ${FONT}>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 14}" text-anchor="middle">benchmark run (date UTC, commit)</text>`,
    `<text x="18" y="${px(margin.top + plotH / 2)}" text-anchor="middle" transform="rotate(-90 18 ${px(margin.top + plotH / 2)})">graphs/s (log scale)</text>`,
    `</g>`,
  ];
  series.forEach((s, k) => {
    const style = `stroke="${COLOURS[k % COLOURS.length]}" stroke-width="2"${DASHES[Math.floor(k / COLOURS.length) % DASHES.length]}`;
    const pts = s.points.map(([i, v]) => `${px(sx(i))},${px(sy(v))}`).join(' ');
    parts.push(
      `<polyline fill="none" ${style} points="${pts}"><title>${escapeXml(s.name)}</title></polyline>`,
      ...s.points.map(([i, v]) => `<circle cx="${px(sx(i))}" cy="${px(sy(v))}" r="3" fill="${COLOURS[k % COLOURS.length]}"><title>${escapeXml(`${s.name}: ${v} graphs/s`)}</title></circle>`),
    );
    const y = margin.top + 8 + k * legendRow;
    parts.push(
      `<line x1="${right + 20}" y1="${y}" x2="${right + 50}" y2="${y}" ${style}/>`,
      `<text x="${right + 56}" y="${y + 4}" font-size="12" ${FONT}>${escapeXml(s.name)}</text>`,
    );
  });
  return [
    `<svg xmlns="${SVG_NS}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
    ...parts,
    `</svg>`,
    '',
  ].join('\n');
}
