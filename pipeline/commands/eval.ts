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

/**
 * `dgmg-pipe eval`: SPEC §7's measures of n samples, and the held-out NLL of the test graphs; for a
 * model of molecules also validity, uniqueness and novelty by RDKit (eval/molecules.ts). The
 * report is the same whatever computes the samples (graph i draws from Rng.derive(seed, i)).
 */
export async function runEval(
  modelFile: string | null,
  n: number,
  seed: number,
  quiet: boolean,
  makeSampler: (ckpt: Checkpoint) => ChunkSampler,
  stop: AbortSignal,
): Promise<QualityReport & { model: string; heldOutNll: number; testGraphs: number; seconds: number; molecules: MoleculeReport | null }> {
  const started = Date.now();
  const { file, ckpt, graphs: samples } = await sampleInMemory(modelFile, n, seed, quiet, makeSampler, stop);
  const data = await datasetOf(ckpt);
  const report = evaluateSamples(samples, data.train, data.test, data.family);
  const molecules: MoleculeReport | null = isMoleculeVocabulary(ckpt.config.model) ? await moleculeMeasures(samples, data.train, ckpt.config.model) : null;
  return { model: file, ...report, heldOutNll: +heldOutNll(ckpt, data.test).toFixed(4), testGraphs: data.test.length, seconds: +((Date.now() - started) / 1000).toFixed(2), molecules };
}
