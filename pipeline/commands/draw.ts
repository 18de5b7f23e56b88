import { renderGraphGridSvg } from '../../draw/svg';
import { isMoleculeVocabulary } from '../../graphs/molecule';
import { writeFileAtomic } from '../checkpoint';
import { loadRDKit } from '../molecules';
import { sampleChunk } from '../sampling';
import { moleculeGridOptions } from './molecules';
import { datasetOf, loadModel } from './shared';

/**
 * `dgmg-pipe draw`: a grid of n sampled graphs, the family's valid ones marked, as one SVG file; a
 * model of molecules' samples as RDKit depicts them, the ones RDKit does not sanitize marked invalid.
 */
export async function runDraw(modelFile: string | null, n: number, out: string, seed: number): Promise<{ file: string; graphs: number; valid: number | null }> {
  const { file, ckpt } = loadModel(modelFile);
  const graphs = sampleChunk(ckpt.config.model, ckpt.params, seed, 0, n, ckpt.config.sample.vMax);
  const names = ckpt.config.model;
  if (isMoleculeVocabulary(names)) {
    const opts = moleculeGridOptions(await loadRDKit(), graphs, names);
    const valid = opts.valid.filter(Boolean).length;
    writeFileAtomic(out, renderGraphGridSvg(graphs, { ...opts, title: `${n} samples of ${file}: ${valid} valid molecules` }));
    return { file: out, graphs: n, valid };
  }
  const family = (await datasetOf(ckpt)).family;
  const valid = family ? graphs.map((g) => family.isValid(g)) : undefined;
  const title = `${n} samples of ${file}${valid ? `: ${valid.filter(Boolean).length} valid ${family?.name}` : ''}`;
  writeFileAtomic(out, renderGraphGridSvg(graphs, { valid, title }));
  return { file: out, graphs: n, valid: valid ? valid.filter(Boolean).length : null };
}
