import type { Row } from './throughput';

/**
 * Speed guards of the quick benchmark (CI): ratios of two figures measured in the same run, each
 * with a floor. Absolute graphs/s move 10 to 20% between runs on a shared machine; a ratio of two
 * figures taken minutes apart in one process does not, while the regressions it stands for (the
 * batching undone, the workers serialised) move it by several times its noise.
 */

/** A figure's name: the benchmark row it comes from. */
export function figureName(r: Pick<Row, 'what' | 'backend' | 'batch' | 'workers'>): string {
  return `${r.what} ${r.backend} batch ${r.batch} workers ${r.workers}`;
}

/** Every row's graphs/s by figure name. */
export function figures(rows: readonly Row[]): Map<string, number> {
  return new Map(rows.map((r) => [figureName(r), r.graphsPerSecond]));
}

export interface Guard {
  /** What the ratio is, as the failure line shows it. */
  readonly name: string;
  /**
   * [numerator, denominator] figure names; the guard's ratio is the largest of these ratios, so
   * a slow spell of the machine during one of them does not trip it, while a regression that
   * lowers them all does.
   */
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  /** The ratio must be at least this. */
  readonly floor: number;
}

const pool = (batch: number, workers: number): string => `pool-train engine batch ${batch} workers ${workers}`;

/**
 * One line per guard. Each floor sits well under the ratios measured on the 2-core machine and
 * well over what the regression it catches gives (about 1x); the figures are in README, "Speed".
 */
export const GUARDS: readonly Guard[] = [
  // shardGradients + Adam: one batched op per decision step, not one per graph (else ~1x)
  { name: 'train batch 64 / batch 1', pairs: [['train engine batch 64 workers 1', 'train engine batch 1 workers 1']], floor: 2 },
  // sampleChunk: 100 graphs in lockstep against one graph at a time over the same graphs; the
  // engine's per-step cost is small, so lockstep gains ~1.5x here, and undone it gives 1x
  { name: 'sample chunk 100 / chunk 1', pairs: [['sample engine batch 100 workers 1', 'sample engine batch 1 workers 1']], floor: 1.2 },
  // the train pool: a shard is one batched call in its worker, not one task or call per graph
  { name: 'pool batch 256 (1 worker) / thread batch 1', pairs: [[pool(256, 1), 'train engine batch 1 workers 1']], floor: 2 },
  // the train pool's two workers compute their shards at the same time, not one after the other:
  // best of three batch sizes, as one reading on this shared machine fell to 0.73x (README)
  { name: 'pool 2 workers / 1, best of batch 64, 128, 256', pairs: [64, 128, 256].map((b) => [pool(b, 2), pool(b, 1)] as const), floor: 1.1 },
];

export interface GuardResult {
  readonly guard: Guard;
  /** NaN when a figure is missing or not a positive number. */
  readonly ratio: number;
  readonly ok: boolean;
  /** One line: the ratio, its value and its floor, or which figure is missing. */
  readonly line: string;
}

const times = (x: number): string => `${Number(x.toFixed(2))}x`;

/** Checks every guard against the figures of one run. */
export function checkGuards(figs: ReadonlyMap<string, number>, guards: readonly Guard[] = GUARDS): GuardResult[] {
  return guards.map((guard) => {
    const bad = guard.pairs.flat().find((f) => {
      const v = figs.get(f);
      return v === undefined || !Number.isFinite(v) || v <= 0;
    });
    if (bad !== undefined) {
      const v = figs.get(bad);
      const why = v === undefined ? 'is missing' : `is not a positive number (${v})`;
      return { guard, ratio: NaN, ok: false, line: `bench guard failed: ${guard.name}: figure "${bad}" ${why}` };
    }
    const ratio = Math.max(...guard.pairs.map(([n, d]) => (figs.get(n) as number) / (figs.get(d) as number)));
    const ok = ratio >= guard.floor;
    return { guard, ratio, ok, line: `bench guard ${ok ? 'ok' : 'failed'}: ${guard.name} = ${times(ratio)}, floor ${times(guard.floor)}` };
  });
}
