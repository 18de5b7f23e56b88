import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cycleGraph } from '../graphs/families';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import { initBackend } from '../model/backend';
import { adamState, adamStep } from '../model/adam';
import { DEFAULT_MODEL, initParams, paramLayout } from '../model/params';
import { shardGradients } from '../model/teacher';
import { sampleChunk } from '../pipeline/sampling';
import { DEFAULT_CONFIG } from '../pipeline/config';

/**
 * Throughput on cycles of 10..20 nodes with the default model, one thread: teacher-forced
 * training (forward + backward + Adam) at several batch sizes per backend, and sampling.
 * `--quick` (CI) runs each measurement for less time. Prints a table and writes JSON.
 */
const quick = process.argv.includes('--quick');
const seconds = quick ? 1.5 : 5;

function cycles(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => encodeGraph(cycleGraph(rng.int(10, 20))));
}

function timeLoop(fn: () => number): { perSecond: number; iterations: number } {
  fn(); // warm-up
  let units = 0;
  let iterations = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    units += fn();
    iterations++;
  }
  return { perSecond: units / ((performance.now() - start) / 1000), iterations };
}

interface Row {
  backend: string;
  what: string;
  batch: number;
  graphsPerSecond: number;
  heapMB: number;
  tensors: number;
}

async function main(): Promise<void> {
  const layout = paramLayout(DEFAULT_MODEL);
  const rows: Row[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    const params = initParams(layout, 0);
    const adam = adamState(layout.total);
    const batches = quick ? [1, 16, 64, 256] : [1, 16, 64, 256];
    for (const B of batches) {
      if (backend === 'cpu' && B > 64 && quick) continue;
      const seqs = cycles(B, B);
      const { perSecond } = timeLoop(() => {
        const r = shardGradients(DEFAULT_MODEL, layout, params, seqs);
        const g = r.gradSum.map((x) => x / B);
        adamStep({ ...DEFAULT_CONFIG.train }, adam, params, g);
        return B;
      });
      rows.push({ backend, what: 'train', batch: B, graphsPerSecond: Math.round(perSecond), heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20), tensors: tf.memory().numTensors });
    }
    const sample = timeLoop(() => sampleChunk(DEFAULT_MODEL, params, 1, 0, 100, 25).length);
    rows.push({ backend, what: 'sample', batch: 100, graphsPerSecond: Math.round(sample.perSecond), heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20), tensors: tf.memory().numTensors });
  }
  process.stdout.write('backend  what    batch  graphs/s  heapMB  tensors\n');
  for (const r of rows) {
    process.stdout.write(`${r.backend.padEnd(8)} ${r.what.padEnd(7)} ${String(r.batch).padStart(5)} ${String(r.graphsPerSecond).padStart(9)} ${String(r.heapMB).padStart(7)} ${String(r.tensors).padStart(8)}\n`);
  }
  const out = { date: new Date().toISOString(), quick, node: process.version, rows };
  mkdirSync(join(__dirname, '..', '..', 'bench', 'results'), { recursive: true });
  writeFileSync(join(__dirname, '..', '..', 'bench', 'results', quick ? 'throughput-quick.json' : 'throughput.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(out)}\n`);
  const bad = rows.filter((r) => !Number.isFinite(r.graphsPerSecond) || r.graphsPerSecond <= 0);
  if (bad.length) {
    process.stderr.write(`bench: missing or NaN figures: ${JSON.stringify(bad)}\n`);
    process.exit(1);
  }
}

void main();
