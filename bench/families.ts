import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFamily } from '../graphs/families';
import { loadConfig, type RunConfig } from '../pipeline/config';
import { readGraphFile } from '../pipeline/dataset';
import { PUBLISHED, type PublishedRow } from './published';

/**
 * `npm run families [-- NAME ...] [-- --networkx] [-- --field [--epochs N] [--n N]]`: the family table, from the shipped
 * configs. Each config is trained with the CLI exactly as a user would (`dgmg-pipe train --config
 * configs/NAME.json --workers 2`, the config's own seed), then `dgmg-pipe eval --n 1000` (seed 0);
 * the markdown table is printed and everything is written to bench/results/families.json.
 * `--networkx` makes the other table: every family's config trained through `--data` on graphs
 * written by networkx (bench/networkx_families.py: shuffled node ids, networkx's edge order), with
 * the validity of 1000 samples judged by the family's own predicate (bench/results/families-networkx.json).
 * `--field` makes the benchmark table (docs/families.md, 'Benchmark sets'): the field's sets at
 * their papers' sizes (configs/planar, sbm, lobsters-gran, grids, community-small), each trained
 * and evaluated the same way, with GRAN's MMDs, validity and V.U.N. beside the published rows of
 * bench/published.ts (bench/results/families-field.json). `--epochs N` overrides every config's
 * epochs (a short check of the script; the row says so) and `--n` the number of samples.
 * Run it on an otherwise idle machine: the times are part of the table.
 */

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'bin', 'dgmg-pipe.js');
const RUNS = join(ROOT, 'runs', 'families');
const WORKERS = 2;
const SAMPLES = 1000;

/** Every shipped config of a family small enough to train here (configs/grids.json is not: see the README). */
const SHIPPED = ['cycles', 'cycles-1min', 'trees', 'ladders', 'lobsters', 'community', 'grids-small', 'community-small'];
/** Families bench/networkx_families.py writes, by config name. */
const NETWORKX = ['cycles', 'trees', 'ladders', 'lobsters', 'community', 'grids-small', 'community-small', 'planar', 'sbm', 'lobsters-gran', 'grids'];
/** The field's benchmark sets, by config name, and the set name bench/published.ts uses. */
const FIELD: Readonly<Record<string, PublishedRow['set']>> = { planar: 'planar', sbm: 'sbm', 'lobsters-gran': 'lobster', grids: 'grid', 'community-small': 'community-small' };

/**
 * The benchmark set of a config: a shipped one by name, or a variant of it in configs/ablation/
 * named after it (ablation/planar-distance is a planar run); undefined for any other name.
 */
function fieldSet(name: string): PublishedRow['set'] | undefined {
  const base = name.startsWith('ablation/') ? name.slice('ablation/'.length) : name;
  const key = Object.keys(FIELD).find((k) => base === k || (name !== base && base.startsWith(`${k}-`)));
  return key === undefined ? undefined : FIELD[key];
}

interface Mmd {
  degree: number | null;
  clustering: number | null;
  orbit: number | null;
  spectrum?: number | null;
}

interface Row {
  config: string;
  family: string;
  order: string;
  seed: number;
  epochs: number;
  graphsTrained: number;
  seconds: number;
  validity: number | null;
  /** Why the row has no measures: its training or evaluation stopped (the --field table only). */
  error?: string;
  /** Samples with no nodes. */
  empty?: number;
  uniqueness?: number;
  novelty?: number;
  vun?: number | null;
  meanNodes?: number;
  mmd?: Mmd;
  mmdTv?: Mmd;
  heldOutNll?: number;
  data?: string;
}

/** Runs the CLI and returns its --json summary; stops the bench with the command's own error line otherwise. */
function cli(args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [CLI, ...args, '--json', '--quiet'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  process.stderr.write(r.stderr);
  if (r.status !== 0) {
    const reason = r.stderr.trim().split('\n').pop() ?? '';
    throw new Error(`dgmg-pipe ${args.join(' ')} exited with ${r.status}: ${reason}`);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
}

function describe(c: RunConfig): string {
  const params = Object.entries(c.data.familyParams).map(([k, v]) => `${k} ${v}`);
  return [c.data.family, ...params].join(', ');
}

function trainRow(name: string, out: string, extra: string[]): Pick<Row, 'graphsTrained' | 'seconds'> {
  const t = cli(['train', '--config', join('configs', `${name}.json`), '--out', out, '--force', '--workers', String(WORKERS), ...extra]);
  return { graphsTrained: t.graphsTrained as number, seconds: t.seconds as number };
}

/** The columns every row takes from its config and its training run. */
function configColumns(name: string, c: RunConfig, t: Pick<Row, 'graphsTrained' | 'seconds'>): Pick<Row, 'config' | 'family' | 'order' | 'seed' | 'epochs' | 'graphsTrained' | 'seconds'> {
  return { config: name, family: describe(c), order: c.data.order, seed: c.train.seed, epochs: c.train.epochs, ...t };
}

function shipped(name: string, trainArgs: readonly string[] = [], samples = SAMPLES): Row {
  const c = loadConfig(join(ROOT, 'configs', `${name}.json`));
  const out = join(RUNS, name);
  const t = trainRow(name, out, [...trainArgs]);
  const e = cli(['eval', '--model', join(out, 'checkpoint.json'), '--n', String(samples), '--seed', '0', '--workers', String(WORKERS)]);
  return {
    ...configColumns(name, c, t),
    validity: e.validity as number | null,
    empty: (e.sizeHistogram as number[])[0] ?? 0,
    uniqueness: e.uniqueness as number,
    novelty: e.novelty as number,
    vun: e.vun as number | null,
    meanNodes: e.meanNodes as number,
    mmd: e.mmd as Mmd,
    mmdTv: e.mmdTv as Mmd,
    heldOutNll: e.heldOutNll as number,
  };
}

function throughNetworkx(name: string): Row {
  const c = loadConfig(join(ROOT, 'configs', `${name}.json`));
  const out = join(RUNS, `networkx-${name}`);
  mkdirSync(out, { recursive: true });
  const data = join(out, 'graphs.jsonl');
  const py = spawnSync('/usr/bin/python3', [join(ROOT, 'bench', 'networkx_families.py'), name, String(c.data.trainSize + c.data.testSize), String(c.train.seed), data], { stdio: 'inherit' });
  if (py.status !== 0) throw new Error(`bench/networkx_families.py ${name} exited with ${py.status}`);
  const t = trainRow(name, out, ['--data', data]);
  const samples = join(out, 'samples.jsonl');
  cli(['sample', '--model', join(out, 'checkpoint.json'), '--n', String(SAMPLES), '--seed', '0', '--out', samples, '--workers', '1']);
  const family = makeFamily(c.data.family, c.data.familyParams);
  const graphs = readGraphFile(samples);
  return {
    ...configColumns(name, c, t),
    validity: graphs.filter((g) => family.isValid(g)).length / graphs.length,
    empty: graphs.filter((g) => g.numNodes === 0).length,
    data: 'networkx (shuffled ids, networkx edge order), --data',
  };
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | null | undefined): string => (x === null || x === undefined ? '' : x === 0 ? '0' : Math.abs(x) >= 0.001 ? x.toFixed(4) : x.toExponential(1));

function table(rows: readonly Row[]): string {
  const head = '| config | family | order | epochs | graphs trained | time | valid | unique | novel | MMD² degree | MMD² clustering | MMD² orbit | MMD² degree (TV) | MMD² clustering (TV) | held-out NLL |';
  const lines = rows.map((r) =>
    `| ${r.config}${r.data ? ' via networkx --data' : ''} | ${r.family} | ${r.order} | ${r.epochs} | ${r.graphsTrained.toLocaleString('en-US')} | ${Math.round(r.seconds)} s | ${pct(r.validity)} | ${pct(r.uniqueness)} | ${pct(r.novelty)} | ${num(r.mmd?.degree)} | ${num(r.mmd?.clustering)} | ${num(r.mmd?.orbit)} | ${num(r.mmdTv?.degree)} | ${num(r.mmdTv?.clustering)} | ${r.heldOutNll === undefined ? '' : r.heldOutNll.toFixed(2)} |`,
  );
  return [head, `|${'---|'.repeat(15)}`, ...lines].join('\n');
}

const percent = (x: number | undefined): string => (x === undefined ? '' : `${x}%`);

/** Ours, then the published rows of the same sets (a dagger marks figures not compared with their paper here). */
function fieldTable(rows: readonly Row[]): string {
  const head = '| set | model | graphs trained | time | mean nodes | valid | V.U.N. | MMD² degree | MMD² clustering | MMD² orbit | MMD² spectrum | source |';
  const ours = rows.map((r) => {
    const model = `| ${fieldSet(r.config)} | this DGMG (configs/${r.config}.json, ${r.epochs} epoch${r.epochs === 1 ? '' : 's'}) |`;
    if (r.error !== undefined) return `${model} not trained: ${r.error.split(': ').slice(1).join(': ')} | | | | | | | | | |`;
    return `${model} ${r.graphsTrained.toLocaleString('en-US')} | ${Math.round(r.seconds)} s | ${r.meanNodes?.toFixed(1) ?? ''} | ${pct(r.validity)} | ${pct(r.vun)} | ${num(r.mmdTv?.degree)} | ${num(r.mmdTv?.clustering)} | ${num(r.mmdTv?.orbit)} | ${num(r.mmdTv?.spectrum)} | measured |`;
  });
  const sets = new Set(rows.map((r) => fieldSet(r.config)));
  const published = PUBLISHED.filter((p) => sets.has(p.set)).map((p) => {
    const g = p.mmdGran;
    const m = p.mmdGraphRnn;
    // Degree, clustering, orbit and spectrum cells: GRAN's kernels are the ones our columns use;
    // GraphRNN's are not, so those cells say so.
    const mmd = g
      ? [String(g.degree), String(g.clustering), String(g.orbit), g.spectrum === undefined ? '' : String(g.spectrum)]
      : m
        ? [`${m.degree} (GraphRNN kernel)`, `${m.clustering} (GraphRNN kernel)`, `${m.orbit} (GraphRNN kernel)`, '']
        : ['', '', '', ''];
    return `| ${p.set} | ${p.model} | | | | ${percent(p.valid)} | ${percent(p.vun)} | ${mmd.join(' | ')} | ${p.source}${p.checked === null ? ' †' : ''} |`;
  });
  return [head, `|${'---|'.repeat(12)}`, ...ours, ...published].join('\n');
}

function field(names: readonly string[], args: readonly string[]): void {
  const flag = (name: string): number | undefined => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const value = Number(args[i + 1]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a positive integer, got ${args[i + 1]}`);
    return value;
  };
  const epochs = flag('--epochs');
  const samples = flag('--n') ?? SAMPLES;
  const chosen = names.length ? names : Object.keys(FIELD);
  const unknown = chosen.filter((n) => fieldSet(n) === undefined || !existsSync(join(ROOT, 'configs', `${n}.json`)));
  if (unknown.length) throw new Error(`unknown benchmark config(s) ${unknown.join(', ')}; known: ${Object.keys(FIELD).join(', ')} and their variants in configs/ablation/`);
  const date = new Date().toISOString();
  const rows: Row[] = [];
  for (const name of chosen) {
    let row: Row;
    try {
      row = shipped(name, epochs === undefined ? [] : ['--epochs', String(epochs)], samples);
    } catch (e) {
      // One set that cannot be trained yet does not stop the others; its row says why.
      const c = loadConfig(join(ROOT, 'configs', `${name}.json`));
      row = { ...configColumns(name, c, { graphsTrained: 0, seconds: 0 }), validity: null, error: (e as Error).message };
    }
    rows.push(epochs === undefined ? row : { ...row, epochs });
    process.stderr.write(`families: ${name} ${row.error ?? `done (${pct(row.validity)} valid, V.U.N. ${pct(row.vun)})`}\n`);
  }
  const note = epochs === undefined ? '' : ` A short check: every config trained ${epochs} epoch${epochs === 1 ? '' : 's'} instead of its own.`;
  process.stdout.write(
    `Measured ${date} with ${WORKERS} workers, ${samples} samples (seed 0) each, MMD² with GRAN's Gaussian-TV kernels against the held-out test graphs.${note}\n` +
      `† not compared with the paper's table here (see bench/published.ts).\n\n${fieldTable(rows)}\n`,
  );
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = `families-field${names.length ? `-${chosen.map((n) => n.replace('/', '-')).join('-')}` : ''}${epochs === undefined ? '' : `-epochs${epochs}`}.json`;
  writeFileSync(join(dir, file), `${JSON.stringify({ date, workers: WORKERS, samples, epochsOverride: epochs ?? null, node: process.version, rows, published: PUBLISHED }, null, 2)}\n`);
}

function main(): void {
  const args = process.argv.slice(2);
  const networkx = args.includes('--networkx');
  const names = args.filter((a, i) => !a.startsWith('--') && !['--epochs', '--n'].includes(args[i - 1]));
  if (args.includes('--field')) {
    field(names, args);
    return;
  }
  const known = networkx ? NETWORKX : SHIPPED;
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) throw new Error(`unknown family config(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const chosen = names.length ? names : known;
  const date = new Date().toISOString();
  const rows: Row[] = [];
  for (const name of chosen) {
    rows.push(networkx ? throughNetworkx(name) : shipped(name));
    process.stderr.write(`families: ${name}${networkx ? ' via networkx' : ''} done (${pct(rows[rows.length - 1].validity)} valid)\n`);
  }
  process.stdout.write(`Measured ${date} with ${WORKERS} workers, ${SAMPLES} samples (seed 0) each; training seed: each config's train.seed.\n\n${table(rows)}\n`);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = `families${networkx ? '-networkx' : ''}${names.length ? `-${chosen.join('-')}` : ''}.json`;
  writeFileSync(join(dir, file), `${JSON.stringify({ date, workers: WORKERS, samples: SAMPLES, node: process.version, rows }, null, 2)}\n`);
}

main();
