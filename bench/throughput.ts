import { cycleGraph } from '../graphs/families';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import { adamState, adamStep } from '../model/adam';
import { DEFAULT_MODEL, initParams, paramLayout, typeCounts } from '../model/params';
import { shardGradients } from '../model/teacher';
import { sampleChunk } from '../pipeline/sampling';
import { loadModel } from '../pipeline/commands/shared';
import { DEFAULT_CONFIG, loadConfig } from '../pipeline/config';
import { graphSequence } from '../pipeline/dataset';
import { loadRDKit, moleculesOf, readSmilesFile } from '../pipeline/molecules';
import { join } from 'node:path';

/**
 * Single-thread throughput on cycles of 10..20 nodes with the default model: teacher-forced
 * training (forward + backward + Adam) at several batch sizes, and sampling in lockstep chunks of
 * 100 and one graph at a time; and the same on molecules (moleculeThread).
 */
export function cycles(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => encodeGraph(cycleGraph(rng.int(10, 20))));
}

/**
 * Units per second of `fn`, by the wall clock and per CPU-second of this process: on a machine
 * shared with other work the second stays comparable between runs where the first does not.
 */
function timeLoop(seconds: number, fn: () => number): { perSecond: number; perCpuSecond: number } {
  let units = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - start < seconds * 1000) units += fn();
  const used = process.cpuUsage(cpu);
  return { perSecond: units / ((performance.now() - start) / 1000), perCpuSecond: units / ((used.user + used.system) / 1e6) };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
}

/**
 * Turns each configuration's time is split into, round-robin: the median turn drops a cold start
 * or a slow spell of the shared machine instead of charging it to whichever configuration ran then.
 */
const ROUNDS = 3;

export interface Row {
  /** What computed the row: 'engine' (model/engine.ts) for every row today. */
  backend: string;
  what: string;
  batch: number;
  workers: number;
  graphsPerSecond: number;
  /** One-thread rows: graphs per CPU-second of the process. */
  graphsPerCpuSecond?: number;
  heapMB: number;
}

/** One thread, no workers: training steps at batch 1, 16, 64, 256, and sampling chunks of 100 and of 1. */
export function singleThread(seconds: number): Row[] {
  const layout = paramLayout(DEFAULT_MODEL);
  // sampling from the shipped model: it makes cycles of 10-20 nodes, as a trained model does
  const shipped = loadModel(null).ckpt;
  const params = initParams(layout, 0);
  const adam = adamState(layout.total);
  const configs: Timed[] = [];
  for (const B of [1, 16, 64, 256]) {
    const seqs = cycles(B, B);
    const fn = (): number => {
      const r = shardGradients(DEFAULT_MODEL, layout, params, seqs);
      const g = r.gradSum.map((x) => x / B);
      adamStep({ ...DEFAULT_CONFIG.train }, adam, params, g);
      return B;
    };
    configs.push({ what: 'train', batch: B, fn });
  }
  // a lockstep chunk of 100, and one graph at a time through the same 100 graphs
  for (const count of [100, 1]) {
    let from = 0;
    const fn = (): number => {
      const n = sampleChunk(shipped.config.model, shipped.params, 1, from, count, shipped.config.sample.vMax).length;
      from = (from + count) % 100;
      return n;
    };
    configs.push({ what: 'sample', batch: count, fn });
  }
  return measured(configs, seconds);
}

/** A configuration to time: what it is, its batch, and one call that returns the graphs it did. */
interface Timed {
  readonly what: string;
  readonly batch: number;
  readonly fn: () => number;
}

/** One-thread rows of `configs`: warmed up, then timed round-robin for `seconds` in all. */
function measured(configs: readonly Timed[], seconds: number): Row[] {
  for (const c of configs) c.fn(); // warm-up
  const rates = configs.map((): Array<{ perSecond: number; perCpuSecond: number }> => []);
  for (let round = 0; round < ROUNDS; round++) configs.forEach((c, i) => rates[i].push(timeLoop(seconds / ROUNDS, c.fn)));
  const heapMB = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
  return configs.map((c, i) => ({
    backend: 'engine',
    what: c.what,
    batch: c.batch,
    workers: 1,
    graphsPerSecond: Math.round(median(rates[i].map((r) => r.perSecond))),
    graphsPerCpuSecond: Math.round(median(rates[i].map((r) => r.perCpuSecond))),
    heapMB,
  }));
}

/** The NCI fixture the tests use: 200 molecules of up to 50 heavy atoms (mean about 17). */
const MOLECULE_FIXTURE = join(__dirname, '..', '..', 'test', 'fixtures', 'molecules', 'nci-first-200.smi');

/**
 * One thread on molecules: training steps at batch 64 on the NCI fixture's molecules with the
 * model shape of configs/molecules-base.json (its node size, propagation rounds and 11 atom
 * types), and sampling chunks of 100 from the shipped molecule model (models/molecules-nci.json,
 * up to 23 atoms).
 */
export async function moleculeThread(seconds: number): Promise<Row[]> {
  const base = loadConfig(join(__dirname, '..', '..', 'configs', 'molecules-base.json')).model;
  const rd = await loadRDKit();
  const set = moleculesOf(rd, readSmilesFile(MOLECULE_FIXTURE), base, { maxAtoms: 50, skipOutsideTypes: true, skipUnparsable: true });
  const seqs = set.graphs.slice(0, 64).map((g) => graphSequence(g, 'natural', typeCounts(base)));
  const layout = paramLayout(base);
  const params = initParams(layout, 0);
  const adam = adamState(layout.total);
  const shipped = loadModel(join(__dirname, '..', '..', 'models', 'molecules-nci.json')).ckpt;
  let from = 0;
  return measured(
    [
      {
        what: 'mol-train',
        batch: seqs.length,
        fn: () => {
          const r = shardGradients(base, layout, params, seqs);
          adamStep({ ...DEFAULT_CONFIG.train }, adam, params, r.gradSum.map((x) => x / seqs.length));
          return seqs.length;
        },
      },
      {
        what: 'mol-sample',
        batch: 100,
        fn: () => {
          const n = sampleChunk(shipped.config.model, shipped.params, 1, from, 100, shipped.config.sample.vMax).length;
          from = (from + 100) % 1000;
          return n;
        },
      },
    ],
    seconds,
  );
}
