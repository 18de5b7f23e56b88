import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { growthRows, growthTable, renderGrowthSvg, twoWorkerRatio } from './growth';
import { checkGuards, figures } from './guard';
import { appendHistory, readHistory, renderHistorySvg } from './history';
import { moleculeThread, singleThread, type Row } from './throughput';
import { memorySoak, workerRows } from './workers';
import { peerDir, peerFigures, peerMissing, ratioLines } from './peer';

/**
 * Short hash of HEAD, "+dirty" when tracked files other than bench/results (which runs rewrite)
 * differ from it; null outside a git checkout.
 */
function gitCommit(cwd: string): string | null {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results') === '' ? '' : '+dirty'}`;
  } catch {
    return null;
  }
}

/**
 * `npm run bench [-- --quick] [-- --soak SECONDS] [-- --peer [--peer-dir DIR]]`: single-thread and
 * worker throughput tables, and memory over a long run, printed and written to bench/results/;
 * with --peer, the PyTorch peer's figures beside ours (bench/peer.ts). `--quick` (CI) keeps the
 * whole run to a few minutes. Either fails (exit 1) when a figure is missing or not a number, or
 * when a speed guard (guard.ts) trips; a full run also appends its figures to
 * bench/results/history.jsonl and redraws bench/results/history.svg.
 */
async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const root = join(__dirname, '..', '..');
  const commit = gitCommit(root);
  const soakArg = process.argv.indexOf('--soak');
  const soakSeconds = soakArg > 0 ? Number(process.argv[soakArg + 1]) : quick ? 30 : 300;
  const single = singleThread(quick ? 1.5 : 5);
  const pool = await workerRows(quick);
  const molecules = await moleculeThread(quick ? 1 : 4);
  const rows: Row[] = [...single, ...molecules, ...pool.rows];
  process.stdout.write('backend  what         batch  workers  graphs/s  heapMB\n');
  for (const r of rows) {
    process.stdout.write(`${r.backend.padEnd(8)} ${r.what.padEnd(12)} ${String(r.batch).padStart(5)} ${String(r.workers).padStart(8)} ${String(r.graphsPerSecond).padStart(9)} ${String(r.heapMB).padStart(7)}\n`);
  }
  const { speedups } = pool;
  for (const s of speedups) process.stdout.write(`2 workers vs 1 at batch ${s.batch}: ${s.speedup}x (median of ${s.pairs} adjacent pairs, middle half ${s.q25}-${s.q75}x; two half-batch shards at once vs one beside them: ${s.ceiling}x)\n`);
  const soak = await memorySoak(soakSeconds);
  process.stdout.write(`memory over ${soak.seconds} s of training (${soak.workers} workers, ${soak.graphs} graphs): rss MB ${soak.rssMB.join(' ')}\n`);
  const growth = growthRows(quick ? 1 : 4);
  process.stdout.write(`cost growth, one thread, one graph a pass:\n${growthTable(growth)}\n`);
  process.stdout.write(`PyTorch peer at these sizes: not measured (its train_bench.py trains cycles of 10-20 nodes only)\n`);
  const largeShards = [];
  for (const nodes of [180, 361]) {
    const ratio = await twoWorkerRatio(nodes, 8, quick ? 3 : 7);
    largeShards.push({ nodes, graphs: 8, ratio });
    process.stdout.write(`2 workers vs 1 on 8 grids of ${nodes} nodes (one shard vs two halves): ${ratio.toFixed(2)}x\n`);
  }
  if (process.argv.includes('--peer')) {
    const peer = peerDir(process.argv);
    const missing = peerMissing(peer);
    if (missing) process.stdout.write(`peer skipped: ${missing}\n`);
    else for (const line of ratioLines(rows, await peerFigures(peer))) process.stdout.write(`${line}\n`);
  }
  const guards = checkGuards(figures(rows));
  for (const g of guards) if (g.ok) process.stdout.write(`${g.line}\n`);
  const date = new Date().toISOString();
  const out = { date, quick, node: process.version, rows, speedups, growth, largeShards, soak, guards: guards.map((g) => ({ name: g.guard.name, ratio: g.ratio, floor: g.guard.floor })) };
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, quick ? 'throughput-quick.json' : 'throughput.json'), `${JSON.stringify(out, null, 2)}\n`);
  for (const figure of ['speed', 'memory'] as const) {
    const title = `Cost against graph size (${date.slice(0, 10)}, ${quick ? 'quick' : 'full'} run)`;
    writeFileSync(join(dir, `growth-${figure}${quick ? '-quick' : ''}.svg`), renderGrowthSvg(growth, figure, title));
  }
  const bad = [...rows.map((r) => r.graphsPerSecond), ...speedups.map((s) => s.speedup), ...soak.rssMB].filter((x) => !Number.isFinite(x) || x <= 0);
  if (bad.length || soak.rssMB.length === 0) {
    process.stderr.write('bench: a figure is missing or not a number\n');
    process.exit(1);
  }
  if (!quick) {
    // a run whose guards trip is still a true record of the code it measured
    const file = join(dir, 'history.jsonl');
    appendHistory(file, { date, commit, machine: { cores: cpus().length, cpu: cpus()[0]?.model.trim() ?? null }, node: process.version, rows, speedups, soak });
    writeFileSync(join(dir, 'history.svg'), renderHistorySvg(readHistory(file)));
  }
  const tripped = guards.filter((g) => !g.ok);
  for (const g of tripped) process.stderr.write(`${g.line}\n`);
  if (tripped.length > 0) process.exit(1);
}

void main();
