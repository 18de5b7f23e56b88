import { evaluateSamples, type QualityReport } from '../../eval/quality';
import type { Graph } from '../../graphs/graph';
import type { Checkpoint } from '../checkpoint';
import { logLikelihoodsOf } from '../model';
import type { ChunkSampler } from '../runner';
import { sampleInMemory } from './sample';
import { isMoleculeVocabulary } from '../../graphs/molecule';
import type { MoleculeReport } from '../../eval/molecules';
import { moleculeMeasures } from './molecules';
import { datasetOf } from './shared';

/** Mean negative log-likelihood per graph of `graphs` under the order the model was trained with. */
export function heldOutNll(ckpt: Checkpoint, graphs: readonly Graph[]): number {
  if (!graphs.length) return NaN;
  return -logLikelihoodsOf(ckpt, graphs).reduce((a, b) => a + b, 0) / graphs.length;
}

/** What eval reports beside the measures: the model, the held-out NLL and the time taken. */
interface EvalContext {
  readonly model: string;
  readonly heldOutNll: number;
  readonly testGraphs: number;
  readonly seconds: number;
}

/**
 * Eval's report: the graph measures (docs/design.md, 'Measures'), or for a model of molecules the molecule measures
 * (eval/molecules.ts) alone, named by `measures`, since validity and novelty by graph
 * isomorphism are no chemist's measures.
 */
export type EvalReport = EvalContext & (({ readonly measures: 'graphs' } & QualityReport) | ({ readonly measures: 'molecules' } & MoleculeReport));

/**
 * `dgmg-pipe eval`: the measures of n samples, and the held-out NLL of the test graphs. The report
 * is the same whatever computes the samples (graph i draws from Rng.derive(seed, i)).
 */
export async function runEval(
  modelFile: string | null,
  n: number,
  seed: number,
  quiet: boolean,
  makeSampler: (ckpt: Checkpoint) => ChunkSampler,
  stop: AbortSignal,
): Promise<EvalReport> {
  const started = Date.now();
  const { file, ckpt, graphs: samples } = await sampleInMemory(modelFile, n, seed, quiet, makeSampler, stop);
  const data = await datasetOf(ckpt);
  const measures = isMoleculeVocabulary(ckpt.config.model)
    ? { measures: 'molecules' as const, ...(await moleculeMeasures(samples, data.train, ckpt.config.model)) }
    : { measures: 'graphs' as const, ...evaluateSamples(samples, data.train, data.test, data.family) };
  return { model: file, ...measures, heldOutNll: +heldOutNll(ckpt, data.test).toFixed(4), testGraphs: data.test.length, seconds: +((Date.now() - started) / 1000).toFixed(2) };
}

/**
 * A graph model's report as a person reads it (pipeline/table.ts lays it out): the two MMD triples
 * side by side, named by their kernels. Fields added to the report show up as they are.
 */
export function evalView(r: EvalReport & { readonly workers: number }): object {
  if (r.measures === 'molecules') return r;
  const { mmd, mmdTv, mmdKernels, measures, heldOutNll, testGraphs, seconds, workers, ...rest } = r;
  return { ...rest, 'MMD² to the test graphs': { 'GraphRNN kernels': mmd, 'GRAN kernels': mmdTv }, heldOutNll, testGraphs, seconds, workers };
}
