import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUARDS, checkGuards, figureName, figures, type Guard } from '../bench/guard';
import { appendHistory, readHistory, renderHistorySvg, type HistoryRecord } from '../bench/history';
import type { Row } from '../bench/throughput';
import { checkXml } from './xml';

const row = (what: string, batch: number, workers: number, graphsPerSecond: number, backend = 'wasm'): Row => ({ backend, what, batch, workers, graphsPerSecond, heapMB: 30 });

const TRAIN: Guard = { name: 'train batch 64 / batch 1', pairs: [['train wasm batch 64 workers 1', 'train wasm batch 1 workers 1']], floor: 5 };
const POOL: Guard = { name: 'pool batch 256: 2 workers / 1', pairs: [['pool-train wasm batch 256 workers 2', 'pool-train wasm batch 256 workers 1']], floor: 1.1 };
const BEST: Guard = {
  name: 'pool 2 workers / 1, best of batch 64, 256',
  pairs: [
    ['pool-train wasm batch 64 workers 2', 'pool-train wasm batch 64 workers 1'],
    ['pool-train wasm batch 256 workers 2', 'pool-train wasm batch 256 workers 1'],
  ],
  floor: 1.1,
};

t.test('a row is named by what, backend, batch and workers', async (t) => {
  t.equal(figureName(row('pool-train', 256, 2, 600)), 'pool-train wasm batch 256 workers 2');
  t.same([...figures([row('train', 1, 1, 50), row('train', 64, 1, 400)])], [
    ['train wasm batch 1 workers 1', 50],
    ['train wasm batch 64 workers 1', 400],
  ]);
});

t.test('guards pass when every ratio is at or over its floor', async (t) => {
  const figs = figures([row('train', 1, 1, 50), row('train', 64, 1, 400), row('pool-train', 256, 1, 500), row('pool-train', 256, 2, 550)]);
  const results = checkGuards(figs, [TRAIN, POOL]);
  t.same(results.map((r) => r.ok), [true, true]);
  t.equal(results[0].ratio, 8);
  t.equal(results[0].line, 'bench guard ok: train batch 64 / batch 1 = 8x, floor 5x');
  t.equal(results[1].line, 'bench guard ok: pool batch 256: 2 workers / 1 = 1.1x, floor 1.1x', 'exactly at the floor passes');
});

t.test('a guard under its floor trips with one line: ratio, value, floor', async (t) => {
  const figs = figures([row('train', 1, 1, 50), row('train', 64, 1, 155), row('pool-train', 256, 1, 500), row('pool-train', 256, 2, 495)]);
  const results = checkGuards(figs, [TRAIN, POOL]);
  t.same(results.map((r) => r.ok), [false, false]);
  t.equal(results[0].line, 'bench guard failed: train batch 64 / batch 1 = 3.1x, floor 5x');
  t.equal(results[1].line, 'bench guard failed: pool batch 256: 2 workers / 1 = 0.99x, floor 1.1x');
  t.notMatch(results[0].line, /\n/);
});

t.test('a guard over several pairs takes the best ratio: one slow reading passes, all slow trips', async (t) => {
  const oneSlow = checkGuards(figures([row('pool-train', 64, 1, 400), row('pool-train', 64, 2, 520), row('pool-train', 256, 1, 450), row('pool-train', 256, 2, 330)]), [BEST]);
  t.equal(oneSlow[0].line, 'bench guard ok: pool 2 workers / 1, best of batch 64, 256 = 1.3x, floor 1.1x');
  const serial = checkGuards(figures([row('pool-train', 64, 1, 400), row('pool-train', 64, 2, 396), row('pool-train', 256, 1, 450), row('pool-train', 256, 2, 430)]), [BEST]);
  t.equal(serial[0].line, 'bench guard failed: pool 2 workers / 1, best of batch 64, 256 = 0.99x, floor 1.1x');
  const missing = checkGuards(figures([row('pool-train', 64, 1, 400), row('pool-train', 64, 2, 520), row('pool-train', 256, 1, 450)]), [BEST]);
  t.equal(missing[0].line, 'bench guard failed: pool 2 workers / 1, best of batch 64, 256: figure "pool-train wasm batch 256 workers 2" is missing');
});

t.test('a missing, NaN, zero or infinite figure fails its guard and names the figure', async (t) => {
  const missing = checkGuards(figures([row('train', 1, 1, 50)]), [TRAIN]);
  t.equal(missing[0].ok, false);
  t.ok(Number.isNaN(missing[0].ratio));
  t.equal(missing[0].line, 'bench guard failed: train batch 64 / batch 1: figure "train wasm batch 64 workers 1" is missing');
  const nan = checkGuards(figures([row('train', 1, 1, NaN), row('train', 64, 1, 400)]), [TRAIN]);
  t.equal(nan[0].line, 'bench guard failed: train batch 64 / batch 1: figure "train wasm batch 1 workers 1" is not a positive number (NaN)');
  // a zero denominator would make an infinite ratio that passes any floor
  const zero = checkGuards(figures([row('train', 1, 1, 0), row('train', 64, 1, 400)]), [TRAIN]);
  t.equal(zero[0].ok, false);
  t.equal(zero[0].line, 'bench guard failed: train batch 64 / batch 1: figure "train wasm batch 1 workers 1" is not a positive number (0)');
  const inf = checkGuards(figures([row('train', 1, 1, 50), row('train', 64, 1, Infinity)]), [TRAIN]);
  t.equal(inf[0].ok, false);
});

t.test('the shipped guard table: distinct names, distinct figures in each pair, floors over 1', async (t) => {
  t.equal(new Set(GUARDS.map((g) => g.name)).size, GUARDS.length);
  for (const g of GUARDS) {
    t.ok(g.pairs.length > 0, g.name);
    for (const [n, d] of g.pairs) t.not(n, d, g.name);
    t.ok(g.floor > 1, `${g.name}: a floor of 1 or less could not catch a slowdown`);
  }
});

const record = (date: string, commit: string, rows: Row[]): HistoryRecord => ({
  date,
  commit,
  machine: { cores: 2, cpu: 'Made-up CPU' },
  node: 'v20.0.0',
  rows,
  speedups: [{ batch: 256, speedup: 1.4 }],
  soak: { seconds: 30, workers: 2, graphs: 1000, rssMB: [700, 710] },
});

t.test('history: records append as JSON lines and read back equal', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'dgmg-history-')), 'history.jsonl');
  t.same(readHistory(file), [], 'no file yet: no records');
  const a = record('2026-11-25T04:26:08.148Z', '4010e72', [row('train', 1, 1, 55), row('train', 64, 1, 388)]);
  const b = record('2026-11-26T10:00:00.000Z', 'abcdef0+dirty', [row('train', 1, 1, 60), row('train', 64, 1, 420), row('sample', 1, 1, 300)]);
  appendHistory(file, a);
  appendHistory(file, b);
  t.equal(readFileSync(file, 'utf8').split('\n').length, 3, 'one line per record');
  t.same(readHistory(file), [a, b]);
});

t.test('history: a malformed line is an error naming the file and line', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'dgmg-history-')), 'history.jsonl');
  const good = JSON.stringify(record('2026-11-25T04:26:08.148Z', '4010e72', [row('train', 1, 1, 55)]));
  writeFileSync(file, `${good}\n{"date": "2026-11-26"\n`);
  t.throws(() => readHistory(file), { message: new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: not JSON`) });
  writeFileSync(file, `${good}\n\n${JSON.stringify({ date: 'yesterday', rows: [] })}\n`);
  t.throws(() => readHistory(file), { message: `${file}:3: no valid "date"` });
  writeFileSync(file, `${JSON.stringify({ date: '2026-11-26T00:00:00Z', rows: [{ what: 'train', backend: 'wasm', batch: 1 }] })}\n`);
  t.throws(() => readHistory(file), { message: `${file}:1: row 1 lacks what, backend, batch, workers or graphsPerSecond` });
});

t.test('history picture: valid SVG, one polyline and legend entry per configuration', async (t) => {
  const records = [
    record('2026-11-25T04:26:08.148Z', '4010e72', [row('train', 1, 1, 55), row('train', 64, 1, 388), row('train', 1, 1, 27, 'cpu')]),
    record('2026-11-26T10:00:00.000Z', 'abcdef0', [row('train', 1, 1, 60), row('train', 64, 1, 420), row('pool-train', 256, 2, 650)]),
    record('2026-11-27T10:00:00.000Z', 'bcdef01', [row('train', 1, 1, 58), row('train', 64, 1, NaN), row('pool-train', 256, 2, 700)]),
  ];
  const svg = renderHistorySvg(records);
  const counts = checkXml(svg);
  t.equal(counts.get('svg'), 1);
  t.equal(counts.get('polyline'), 4, 'train wasm b1, train wasm b64, train cpu b1, pool-train b256 w2');
  t.equal(counts.get('circle'), 8, 'one marker per finite figure (the NaN is left out)');
  t.notMatch(svg, /NaN|Infinity|undefined/);
  for (const name of ['train wasm batch 1 workers 1', 'train wasm batch 64 workers 1', 'train cpu batch 1 workers 1', 'pool-train wasm batch 256 workers 2']) {
    t.match(svg, `>${name}</text>`, `legend names ${name}`);
  }
  t.match(svg, '>2026-11-25 04:26</text>', 'x axis labels the runs by date');
  t.match(svg, '>4010e72</text>', 'and by commit');
  t.match(svg, '>graphs/s (log scale)</text>');
  // the wasm batch-1 line joins its three runs, left to right
  const line = /<polyline[^>]*points="([^"]*)"><title>train wasm batch 1 workers 1</.exec(svg);
  t.ok(line);
  const xs = (line?.[1] ?? '').split(' ').map((p) => Number(p.split(',')[0]));
  t.equal(xs.length, 3);
  t.ok(xs[0] < xs[1] && xs[1] < xs[2]);
  t.doesNotThrow(() => checkXml(renderHistorySvg([])), 'no records: still a valid picture');
});
