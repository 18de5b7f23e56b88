import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { singleThread, type Row } from './throughput';
import { trainRates } from './workers';

/**
 * The PyTorch peer (a batched DGMG in plain PyTorch, ../shared/peers/pytorch_dgmg next to the
 * dgmg-pipe folder) run beside our figures, with the ratios: one thread at batch 64 and 256, and
 * two cores at batch 256 (two peer processes side by side against our 2 workers).
 *
 *   node dist/bench/peer.js [--peer-dir DIR]      # ours and the peer, same run
 *   npm run bench -- --peer [--peer-dir DIR]      # the same after the full benchmark
 *
 * Needs /usr/bin/python3 with torch (Debian: apt-get install -y python3-torch python3-networkx);
 * without it the comparison is skipped with a message. No test depends on it.
 */

const PYTHON = '/usr/bin/python3';

export interface PeerFigures {
  readonly oneThread64: number;
  readonly oneThread256: number;
  /** The same per CPU-second of the peer's process (its clock replaced by time.process_time). */
  readonly oneThread64Cpu: number;
  readonly oneThread256Cpu: number;
  /** Two single-thread processes at batch 256 at once, their figures added. */
  readonly twoProcesses256: number;
}

/** The peer's folder: --peer-dir, else ../shared/peers/pytorch_dgmg beside the package. */
export function peerDir(argv: readonly string[]): string {
  const i = argv.indexOf('--peer-dir');
  return i >= 0 ? resolve(argv[i + 1]) : resolve(__dirname, '..', '..', '..', 'shared', 'peers', 'pytorch_dgmg');
}

/** Why the peer cannot run here, or null when it can. */
export function peerMissing(dir: string): string | null {
  if (!existsSync(join(dir, 'train_bench.py'))) return `no peer at ${dir} (give its folder with --peer-dir)`;
  if (spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) return `${PYTHON} cannot import torch (apt-get install -y python3-torch python3-networkx)`;
  return null;
}

/**
 * One peer training run, batched lockstep, one thread: its graphs/s by the wall clock, or with
 * `cpu` per CPU-second (train_bench.py run with time.perf_counter replaced by time.process_time;
 * the peer's files are not changed).
 */
function peerRun(dir: string, batch: number, cpu = false): Promise<number> {
  const benchArgs = ['--threads', '1', '--variant', 'batched', '--batch-size', String(batch), '--train-graphs', String(4 * batch), '--warmup', String(batch), '--sample-graphs', '0'];
  const cpuClock = `import runpy, sys, time\ntime.perf_counter = time.process_time\nsys.argv = ['train_bench.py'] + sys.argv[1:]\nrunpy.run_path('train_bench.py', run_name='__main__')`;
  const args = cpu ? ['-c', cpuClock, ...benchArgs] : ['train_bench.py', ...benchArgs];
  return new Promise((ok, fail) => {
    const child = spawn(PYTHON, args, { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`peer: ${PYTHON} ${args.join(' ')} exited with ${code}`));
      ok((JSON.parse(out.trim().split('\n').pop() ?? '{}') as { train_graphs_per_s: number }).train_graphs_per_s);
    });
  });
}

export async function peerFigures(dir: string): Promise<PeerFigures> {
  const oneThread64 = await peerRun(dir, 64);
  const oneThread256 = await peerRun(dir, 256);
  const oneThread64Cpu = await peerRun(dir, 64, true);
  const oneThread256Cpu = await peerRun(dir, 256, true);
  const pair = await Promise.all([peerRun(dir, 256), peerRun(dir, 256)]);
  return { oneThread64, oneThread256, oneThread64Cpu, oneThread256Cpu, twoProcesses256: pair[0] + pair[1] };
}

/** Our figures against the peer's: lines `what  ours  peer  ours/peer`. */
export function ratioLines(rows: readonly Row[], peer: PeerFigures): string[] {
  const row = (what: string, batch: number, workers: number): Row | undefined => rows.find((r) => r.what === what && r.batch === batch && r.workers === workers);
  const ours = (what: string, batch: number, workers: number): number => row(what, batch, workers)?.graphsPerSecond ?? NaN;
  const oursCpu = (batch: number): number => row('train', batch, 1)?.graphsPerCpuSecond ?? NaN;
  const lines: Array<[string, number, number]> = [
    ['one thread, batch 64', ours('train', 64, 1), peer.oneThread64],
    ['one thread, batch 256', ours('train', 256, 1), peer.oneThread256],
    ['one thread, batch 64, per CPU-second', oursCpu(64), peer.oneThread64Cpu],
    ['one thread, batch 256, per CPU-second', oursCpu(256), peer.oneThread256Cpu],
    ['two cores, batch 256 (2 workers / 2 peer processes)', ours('pool-train', 256, 2), peer.twoProcesses256],
  ];
  return [
    'vs the PyTorch peer (graphs/s)          ours     peer   ours/peer',
    ...lines.map(([what, a, b]) => `${what.padEnd(52)} ${String(a).padStart(6)} ${String(Math.round(b)).padStart(8)} ${(a / b).toFixed(2).padStart(7)}x`),
  ];
}

async function main(): Promise<void> {
  const dir = peerDir(process.argv);
  const missing = peerMissing(dir);
  if (missing) {
    process.stderr.write(`bench/peer: ${missing}\n`);
    process.exit(1);
  }
  const rows: Row[] = singleThread(5).filter((r) => r.what === 'train');
  const { rates } = await trainRates(256, 32, 1);
  rows.push({ backend: 'engine', what: 'pool-train', batch: 256, workers: 2, graphsPerSecond: Math.round(rates[1]), heapMB: 0 });
  const peer = await peerFigures(dir);
  for (const line of ratioLines(rows, peer)) process.stdout.write(`${line}\n`);
}

if (require.main === module) void main();
