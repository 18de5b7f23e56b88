import { writeFileAtomic } from '../checkpoint';
import { generationPage } from '../model';
import { loadModel } from './shared';

/** `dgmg-pipe animate`: one sampled graph built decision by decision (generationPage), as an HTML file. */
export function runAnimate(modelFile: string | null, out: string, seed: number): { file: string; nodes: number; edges: number; decisions: number } {
  const { file, ckpt } = loadModel(modelFile);
  const { html, graph, decisions } = generationPage(ckpt, seed, `A graph sampled from ${file} (seed ${seed})`);
  writeFileAtomic(out, html);
  return { file: out, nodes: graph.numNodes, edges: graph.edges.length, decisions };
}

