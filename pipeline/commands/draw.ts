import { renderGraphGridSvg } from '../../draw/svg';
import { isMoleculeVocabulary } from '../../graphs/molecule';
import { writeFileAtomic } from '../checkpoint';
import { loadRDKit } from '../molecules';
import { inThreadSampler } from '../runner';
import { moleculeGridOptions } from './molecules';
import { sampleInMemory } from './sample';
import { datasetOf } from './shared';

/**
 * `dgmg-pipe draw`: a grid of n sampled graphs, the family's valid ones marked, as one SVG file; a
 * model of molecules' samples as RDKit depicts them, the ones RDKit does not sanitize marked invalid.
 * Stopped by `stop` while sampling, it writes nothing.
 */
export async function runDraw(modelFile: string | null, n: number, out: string, seed: number, stop: AbortSignal): Promise<{ file: string; graphs: number; valid: number | null }> {
  const { file, ckpt, graphs } = await sampleInMemory(modelFile, n, seed, true, inThreadSampler, stop);
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
