import { adamStep, type AdamState } from '../model/adam';
import { addScaled, type ShardGradients } from '../model/teacher';
import type { RunConfig } from './config';
import { TrainingError } from './runner';

/**
 * The parameter aggregator (docs/design.md, 'Training dataflow'): the optimizer side of a training step, run in the main
 * thread between two batches while the shard runners wait for the next parameter version.
 */

/**
 * Sums the shards' gradients in shard order, divides by the batch's graph count, refuses a
 * non-finite loss or gradient (before any update), clips and takes the Adam step on `params` in
 * place, with the learning rate of `step`.
 */
export function aggregate(
  config: RunConfig,
  params: Float32Array,
  adam: AdamState,
  step: number,
  totalSteps: number,
  results: readonly ShardGradients[],
): { loss: number; gradNorm: number; graphs: number } {
  const graphs = results.reduce((a, r) => a + r.logLik.length, 0);
  const grad = new Float32Array(params.length);
  // the gradient is grad · 2^exponent (model/teacher.ts, run): shards at a smaller scale are scaled to the largest
  let exponent = 0;
  let logLik = 0;
  for (const r of results) {
    exponent = addScaled(grad, exponent, r.gradSum, r.gradExponent);
    for (const l of r.logLik) logLik += l;
  }
  for (let i = 0; i < grad.length; i++) grad[i] /= graphs;
  const loss = -logLik / graphs;
  if (!Number.isFinite(loss)) throw new TrainingError(`step ${step}: the loss is ${loss}; parameters were not updated`);
  if (!grad.every(Number.isFinite)) throw new TrainingError(`step ${step}: the gradient has NaN or Inf entries; parameters were not updated`);
  if (config.train.clipNorm === 0 && !grad.every((g) => Number.isFinite(Math.fround(g * 2 ** exponent)))) {
    throw new TrainingError(`step ${step}: the gradient passes float32's range (2^${exponent} times its stored values) and train.clipNorm is 0; parameters were not updated (clipping scales it back exactly)`);
  }
  const gradNorm = adamStep({ ...config.train, lr: learningRate(config.train, step, totalSteps) }, adam, params, grad, exponent);
  return { loss, gradNorm, graphs };
}

/** The learning rate of `step` (0-based): a cosine from lr to lr * lrFinalFraction over the run. */
export function learningRate(train: Pick<RunConfig['train'], 'lr' | 'lrFinalFraction'>, step: number, totalSteps: number): number {
  const { lr, lrFinalFraction } = train;
  return lr * (lrFinalFraction + (1 - lrFinalFraction) * 0.5 * (1 + Math.cos((Math.PI * step) / Math.max(totalSteps, 1))));
}
