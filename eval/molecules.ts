import type { Graph } from '../graphs/graph';
import { typesOf, type MoleculeVocabulary } from '../graphs/molecule';

/** A graph and the canonical SMILES RDKit makes of it (null: RDKit does not sanitize it). */
export interface MoleculeSample {
  readonly graph: Graph;
  readonly smiles: string | null;
}

/** Two histograms over type names and their total variation distance, 1/2 sum |p - q|. */
export interface TypeDistribution {
  readonly samples: Readonly<Record<string, number>>;
  readonly data: Readonly<Record<string, number>>;
  /** 0: the same shares; 1: no type in common; null when either side has nothing to count. */
  readonly totalVariation: number | null;
}

/**
 * The molecule measures of generated graphs, with DGL-LifeSci's denominators (its DGMG example's
 * eval.py, after GuacaMol): validity = valid / samples, uniqueness = unique / valid, novelty =
 * novel / unique, where "valid" is a sample RDKit sanitizes, "unique" a distinct canonical SMILES
 * (no stereo) among the valid ones and "novel" a unique one that no training molecule has.
 */
export interface MoleculeReport {
  readonly samples: number;
  readonly valid: number;
  readonly unique: number;
  readonly novel: number;
  readonly validity: number;
  /** null when no sample is valid. */
  readonly uniqueness: number | null;
  /** null when no sample is valid. */
  readonly novelty: number | null;
  /** Atom types over every sampled node (valid molecule or not) against every training atom. */
  readonly atomTypes: TypeDistribution;
  /** Bond types over every sampled edge against every training bond. */
  readonly bondTypes: TypeDistribution;
  /** Entry k: the number of graphs with k atoms, samples and training molecules. */
  readonly sizeHistogram: { readonly samples: number[]; readonly data: number[] };
}

/** The measures of docs/design.md, 'Measures', for molecules: `samples` measured against the training molecules `data`. */
export function evaluateMolecules(samples: readonly MoleculeSample[], data: readonly MoleculeSample[], vocab: MoleculeVocabulary): MoleculeReport {
  if (samples.length === 0) throw new Error('evaluateMolecules: no samples to evaluate');
  const valid = samples.flatMap((s) => (s.smiles === null ? [] : [s.smiles]));
  const unique = new Set(valid);
  const training = new Set(data.flatMap((s) => (s.smiles === null ? [] : [s.smiles])));
  const novel = [...unique].filter((s) => !training.has(s)).length;
  const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);
  return {
    samples: samples.length,
    valid: valid.length,
    unique: unique.size,
    novel,
    validity: valid.length / samples.length,
    uniqueness: ratio(unique.size, valid.length),
    novelty: ratio(novel, unique.size),
    atomTypes: distribution(samples, data, (g) => typesOf(g).nodeTypes.map((t) => vocab.nodeTypes[t])),
    bondTypes: distribution(samples, data, (g) => typesOf(g).edgeTypes.map((t) => vocab.edgeTypes[t])),
    sizeHistogram: { samples: sizeHistogram(samples), data: sizeHistogram(data) },
  };
}

function distribution(samples: readonly MoleculeSample[], data: readonly MoleculeSample[], names: (g: Graph) => string[]): TypeDistribution {
  const count = (set: readonly MoleculeSample[]): Record<string, number> => {
    const h: Record<string, number> = {};
    for (const s of set) for (const n of names(s.graph)) h[n] = (h[n] ?? 0) + 1;
    return h;
  };
  const a = count(samples);
  const b = count(data);
  return { samples: a, data: b, totalVariation: totalVariation(a, b) };
}

/** 1/2 sum over names of |p(name) - q(name)|, the histograms normalised; null if either is empty. */
export function totalVariation(p: Readonly<Record<string, number>>, q: Readonly<Record<string, number>>): number | null {
  const sum = (h: Readonly<Record<string, number>>): number => Object.values(h).reduce((s, x) => s + x, 0);
  const sp = sum(p);
  const sq = sum(q);
  if (sp === 0 || sq === 0) return null;
  let d = 0;
  for (const k of new Set([...Object.keys(p), ...Object.keys(q)])) d += Math.abs((p[k] ?? 0) / sp - (q[k] ?? 0) / sq);
  return d / 2;
}

function sizeHistogram(set: readonly MoleculeSample[]): number[] {
  const h = new Array<number>(set.reduce((m, s) => Math.max(m, s.graph.numNodes), 0) + 1).fill(0);
  for (const s of set) h[s.graph.numNodes]++;
  return h;
}
