import { renderGraphGridSvg } from '../../draw/svg';
import { writeFileAtomic } from '../checkpoint';
import { sampleChunk } from '../sampling';
import { datasetOf, loadModel } from './shared';

/** `dgmg-pipe draw`: a grid of n sampled graphs, the family's valid ones marked, as one SVG file. */
export function runDraw(modelFile: string | null, n: number, out: string, seed: number): { file: string; graphs: number; valid: number | null } {
  const { file, ckpt } = loadModel(modelFile);
  const graphs = sampleChunk(ckpt.config.model, ckpt.params, seed, 0, n, ckpt.config.sample.vMax);
  const family = datasetOf(ckpt).family;
  const valid = family ? graphs.map((g) => family.isValid(g)) : undefined;
  const title = `${n} samples of ${file}${valid ? `: ${valid.filter(Boolean).length} valid ${family?.name}` : ''}`;
  writeFileAtomic(out, renderGraphGridSvg(graphs, { valid, title }));
  return { file: out, graphs: n, valid: valid ? valid.filter(Boolean).length : null };
}
