/**
 * Published results on the field's benchmark sets, printed beside ours by `npm run families --
 * --field`. Each figure names the paper and table it is quoted from and how far it was checked
 * here: `checked` names what the figure was compared against; null means it could not be
 * compared with the paper's table from this machine, and the table marks it so.
 */
export interface PublishedRow {
  readonly set: 'planar' | 'sbm' | 'lobster' | 'grid' | 'community-small';
  readonly model: string;
  /** Percent of samples valid, unique and novel (SPECTRE's V.U.N.). */
  readonly vun?: number;
  /** MMD with GraphRNN's kernels (GraphRNN's Table 2 reports them on community-small). */
  readonly mmdGraphRnn?: { readonly degree: number; readonly clustering: number; readonly orbit: number };
  readonly source: string;
  readonly checked: string | null;
}

const G2PT_TABLE = 'Chen et al. 2025, "Graph Generative Pre-trained Transformer" (G2PT), Table 2';
const SPECTRE_TABLE = 'Martinkus et al. 2022, "SPECTRE: Spectral Conditioning Helps to Overcome the Expressivity Limits of One-shot Graph Generators", Table 1';
const GRAPHRNN_TABLE = 'You et al. 2018, "GraphRNN", Table 2 (community-small; Gaussian EMD kernels)';
const SECONDARY = "a public summary of G2PT's Table 2 (found by code search); the paper's own table was not reachable here";

export const PUBLISHED: readonly PublishedRow[] = [
  { set: 'planar', model: 'GRAN', vun: 0, source: SPECTRE_TABLE, checked: null },
  { set: 'planar', model: 'BiGG', vun: 5, source: G2PT_TABLE, checked: null },
  { set: 'planar', model: 'SPECTRE', vun: 25, source: SPECTRE_TABLE, checked: null },
  { set: 'planar', model: 'DiGress', vun: 77.5, source: G2PT_TABLE, checked: SECONDARY },
  { set: 'planar', model: 'DeFoG', vun: 99.5, source: G2PT_TABLE, checked: SECONDARY },
  { set: 'sbm', model: 'GRAN', vun: 25, source: SPECTRE_TABLE, checked: null },
  { set: 'sbm', model: 'BiGG', vun: 10, source: G2PT_TABLE, checked: null },
  { set: 'sbm', model: 'DiGress', vun: 60, source: G2PT_TABLE, checked: SECONDARY },
  { set: 'sbm', model: 'DeFoG', vun: 90, source: G2PT_TABLE, checked: SECONDARY },
  { set: 'community-small', model: 'DeepGMG', mmdGraphRnn: { degree: 0.22, clustering: 0.95, orbit: 0.4 }, source: GRAPHRNN_TABLE, checked: null },
  { set: 'community-small', model: 'GraphRNN', mmdGraphRnn: { degree: 0.03, clustering: 0.03, orbit: 0.01 }, source: GRAPHRNN_TABLE, checked: null },
];
