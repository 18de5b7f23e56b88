import { evaluateSamples, type QualityReport } from '../../eval/quality';
import type { Graph } from '../../graphs/graph';
import { paramLayout, typeCounts } from '../../model/params';
import { logLikelihoods } from '../../model/teacher';
import type { Checkpoint } from '../checkpoint';
import { graphSequence } from '../dataset';
import type { ChunkSampler } from '../runner';
import { sampleInMemory } from './sample';
import { isMoleculeVocabulary } from '../../graphs/molecule';
import type { MoleculeReport } from '../../eval/molecules';
import { moleculeMeasures } from './molecules';
import { datasetOf } from './shared';

/** Mean negative log-likelihood per graph of `graphs` under the order the model was trained with. */
export function heldOutNll(ckpt: Checkpoint, graphs: readonly Graph[]): number {
  if (!graphs.length) return NaN;
  const order = ckpt.config.data.order === 'random' ? 'natural' : ckpt.config.data.order;
  const layout = paramLayout(ckpt.config.model);
  const types = typeCounts(ckpt.config.model);
  let total = 0;
  for (let i = 0; i < graphs.length; i += 256) {
    const seqs = graphs.slice(i, i + 256).map((g) => graphSequence(g, order, types));
    for (const l of logLikelihoods(ckpt.config.model, layout, ckpt.params, seqs)) total -= l;
  }
  return total / graphs.length;
}

/** What `dgmg-pipe eval` measures of a model. */
export type EvalReport = QualityReport & { model: string; heldOutNll: number; testGraphs: number; seconds: number; molecules: MoleculeReport | null };

/**
 * `dgmg-pipe eval`: the measures of n samples (docs/design.md, 'Measures'), and the held-out NLL
 * of the test graphs; for a model of molecules also validity, uniqueness and novelty by RDKit
 * (eval/molecules.ts). The report is the same whatever computes the samples (graph i draws from
 * Rng.derive(seed, i)).
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
  const report = evaluateSamples(samples, data.train, data.test, data.family);
  const molecules: MoleculeReport | null = isMoleculeVocabulary(ckpt.config.model) ? await moleculeMeasures(samples, data.train, ckpt.config.model) : null;
  return { model: file, ...report, heldOutNll: +heldOutNll(ckpt, data.test).toFixed(4), testGraphs: data.test.length, seconds: +((Date.now() - started) / 1000).toFixed(2), molecules };
}

/**
 * The report as a person reads it (pipeline/table.ts lays it out): the two MMD triples side by
 * side, named by their kernels; for a model of molecules one set of measures, RDKit's, whose
 * validity, uniqueness and novelty are those of molecules (a canonical SMILES each) where the
 * graph measures would count isomorphism classes of typed graphs. Fields added to either report
 * show up as they are.
 */
export function evalView(r: EvalReport & { workers: number }): object {
  const { mmd, mmdTv, mmdKernels, molecules, heldOutNll, testGraphs, seconds, workers, ...measures } = r;
  const tail = { 'MMD² to the test graphs': { 'GraphRNN kernels': mmd, 'GRAN kernels': mmdTv }, heldOutNll, testGraphs, seconds, workers };
  if (molecules === null) return { ...measures, ...tail };
  const { model, samples, validity, uniqueness, novelty, sizeHistogram, ...graphMeasures } = measures;
  return { model, ...molecules, ...graphMeasures, ...tail };
}
