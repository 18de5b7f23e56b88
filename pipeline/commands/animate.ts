import { renderGenerationHtml, typedAnimationOptions } from '../../draw/animate';
import { encodeGraph } from '../../graphs/sequence';
import { writeFileAtomic } from '../checkpoint';
import { sampleChunk } from '../sampling';
import { loadModel } from './shared';

/**
 * `dgmg-pipe animate`: one sampled graph built decision by decision, as a self-contained HTML page.
 * A sampled graph keeps its nodes in the order they were added and its edges in the order they
 * were chosen, so its natural-order encoding is the decisions that built it (repeated-edge
 * attempts, which change nothing, left out).
 */
export function runAnimate(modelFile: string | null, out: string, seed: number): { file: string; nodes: number; edges: number; decisions: number } {
  const { file, ckpt } = loadModel(modelFile);
  const [g] = sampleChunk(ckpt.config.model, ckpt.params, seed, 0, 1, ckpt.config.sample.vMax);
  const seq = encodeGraph(g);
  const types = ckpt.config.model.nodeTypes.length > 0 ? typedAnimationOptions(g, ckpt.config.model) : {};
  writeFileAtomic(out, renderGenerationHtml(seq, { title: `A graph sampled from ${file} (seed ${seed})`, ...types }));
  return { file: out, nodes: g.numNodes, edges: g.edges.length, decisions: seq.length };
}
