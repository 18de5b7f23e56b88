import type { Graph } from '../graphs/graph';
import { typesOf, type MoleculeVocabulary } from '../graphs/molecule';

/** A graph and what RDKit makes of it (null: RDKit does not sanitize it). */
export interface MoleculeSample {
  readonly graph: Graph;
  readonly profile: MoleculeProfile | null;
}

/** What the measures need of one molecule, as RDKit computes it (pipeline/molecules.ts, moleculeProfile). */
export interface MoleculeProfile {
  /** Canonical SMILES, without stereo or isotopes. */
  readonly smiles: string;
  /** Morgan radius-2 bits folded to MORGAN_BITS, as 32-bit words. */
  readonly fingerprint: Uint32Array;
  /**
   * The canonical SMILES of the Bemis-Murcko framework; null when the molecule has no ring, or if
   * RDKit did not sanitize the framework (none of the 13,833 ring molecules of NCI + WEHI fails).
   */
  readonly scaffold: string | null;
  /** The size of each ring of RDKit's ring perception (its symmetrized SSSR). */
  readonly ringSizes: readonly number[];
  readonly properties: MoleculeProperties;
}

/** The properties whose distributions are compared (MOSES's weight and logP, and more). */
export interface MoleculeProperties {
  readonly heavyAtoms: number;
  /** Average molecular weight (RDKit's MolWt, MOSES's "weight"). */
  readonly weight: number;
  /** Crippen logP (RDKit's MolLogP). */
  readonly logP: number;
  /** Topological polar surface area, N and O only (RDKit's TPSA default). */
  readonly tpsa: number;
  /** RDKit's ring count (its NumRings descriptor). */
  readonly rings: number;
}

export const PROPERTY_NAMES: ReadonlyArray<keyof MoleculeProperties> = ['heavyAtoms', 'weight', 'logP', 'tpsa', 'rings'];

/** MOSES's fingerprint for SNN and internal diversity: Morgan radius 2 folded to 1,024 bits. */
export const MORGAN_RADIUS = 2;
export const MORGAN_BITS = 1024;

/** Two histograms over names (atom types, bond types, ring sizes) and their total variation distance, 1/2 sum |p - q|. */
export interface TypeDistribution {
  readonly samples: Readonly<Record<string, number>>;
  readonly data: Readonly<Record<string, number>>;
  /** 0: the same shares; 1: no name in common; null when either side has nothing to count. */
  readonly totalVariation: number | null;
}

/** A property's distribution over the valid samples against the data's. */
export interface PropertyComparison {
  readonly samplesMean: number | null;
  readonly dataMean: number | null;
  /** Wasserstein-1 (earth mover's) distance between the two empirical distributions, as MOSES; null when either is empty. */
  readonly wasserstein: number | null;
}

/** Bemis-Murcko frameworks of the valid samples against the data's. */
export interface ScaffoldReport {
  /** Distinct frameworks among the valid samples, and among the data. */
  readonly samples: number;
  readonly data: number;
  /** Distinct frameworks both have. */
  readonly shared: number;
  /** Share of the samples' distinct frameworks the data lacks; null when the samples have none. */
  readonly novel: number | null;
  /** Share of the data's distinct frameworks the samples have; null when the data has none. */
  readonly dataCovered: number | null;
  /** Share of the valid samples, and of the data, without a ring (so without a framework). */
  readonly acyclic: SamplesAndData;
}

export interface SamplesAndData {
  readonly samples: number | null;
  readonly data: number | null;
}

/**
 * The molecule measures of generated graphs, with DGL-LifeSci's denominators (its DGMG example's
 * eval.py, after GuacaMol): validity = valid / samples, uniqueness = unique / valid, novelty =
 * novel / unique, where "valid" is a sample RDKit sanitizes, "unique" a distinct canonical SMILES
 * (no stereo) among the valid ones and "novel" a unique one that no training molecule has. The
 * measures of MOSES follow, computed over the valid samples, repeats included, as MOSES does.
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
  /**
   * MOSES's IntDiv: 1 - the mean Tanimoto similarity of the Morgan fingerprints over all ordered
   * pairs of valid samples, a sample with itself included; null when no sample is valid.
   */
  readonly internalDiversity: number | null;
  /** MOSES's SNN: the mean over valid samples of the Tanimoto similarity to the nearest data molecule. */
  readonly snn: number | null;
  readonly scaffolds: ScaffoldReport;
  /** Ring sizes over every ring of the valid samples against the data's rings. */
  readonly ringSizes: TypeDistribution;
  /** Share of molecules with a 3-membered ring. */
  readonly threeMemberedRing: SamplesAndData;
  /** Share of molecules of more than one fragment (salts, mixtures: a '.' in the canonical SMILES). */
  readonly severalFragments: SamplesAndData;
  readonly properties: Readonly<Record<keyof MoleculeProperties, PropertyComparison>>;
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
  const valid = samples.flatMap((s) => (s.profile === null ? [] : [s.profile]));
  const reference = data.flatMap((s) => (s.profile === null ? [] : [s.profile]));
  const unique = new Set(valid.map((p) => p.smiles));
  const training = new Set(reference.map((p) => p.smiles));
  const novel = [...unique].filter((s) => !training.has(s)).length;
  const fingerprints = valid.map((p) => p.fingerprint);
  const properties = Object.fromEntries(
    PROPERTY_NAMES.map((name) => {
      const a = valid.map((p) => p.properties[name]);
      const b = reference.map((p) => p.properties[name]);
      return [name, { samplesMean: mean(a), dataMean: mean(b), wasserstein: wasserstein1(a, b) }];
    }),
  ) as Record<keyof MoleculeProperties, PropertyComparison>;
  const hasThreeRing = (p: MoleculeProfile): boolean => p.ringSizes.includes(3);
  const fragmented = (p: MoleculeProfile): boolean => p.smiles.includes('.');
  return {
    samples: samples.length,
    valid: valid.length,
    unique: unique.size,
    novel,
    validity: valid.length / samples.length,
    uniqueness: ratio(unique.size, valid.length),
    novelty: ratio(novel, unique.size),
    internalDiversity: valid.length === 0 ? null : 1 - meanPairwiseTanimoto(fingerprints),
    snn: valid.length === 0 || reference.length === 0 ? null : meanNearestTanimoto(fingerprints, reference.map((p) => p.fingerprint)),
    scaffolds: scaffoldReport(valid, reference),
    ringSizes: histograms(valid, reference, (p) => p.ringSizes.map(String)),
    threeMemberedRing: { samples: shareOf(valid, hasThreeRing), data: shareOf(reference, hasThreeRing) },
    severalFragments: { samples: shareOf(valid, fragmented), data: shareOf(reference, fragmented) },
    properties,
    atomTypes: histograms(samples, data, (s) => typesOf(s.graph).nodeTypes.map((t) => vocab.nodeTypes[t])),
    bondTypes: histograms(samples, data, (s) => typesOf(s.graph).edgeTypes.map((t) => vocab.edgeTypes[t])),
    sizeHistogram: { samples: sizeHistogram(samples), data: sizeHistogram(data) },
  };
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

function shareOf<T>(items: readonly T[], test: (item: T) => boolean): number | null {
  return ratio(items.filter(test).length, items.length);
}

function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length;
}

function scaffoldReport(valid: readonly MoleculeProfile[], reference: readonly MoleculeProfile[]): ScaffoldReport {
  const frameworks = (set: readonly MoleculeProfile[]): Set<string> => new Set(set.flatMap((p) => (p.scaffold === null ? [] : [p.scaffold])));
  const a = frameworks(valid);
  const b = frameworks(reference);
  const shared = [...a].filter((s) => b.has(s)).length;
  const acyclic = (p: MoleculeProfile): boolean => p.scaffold === null;
  return {
    samples: a.size,
    data: b.size,
    shared,
    novel: ratio(a.size - shared, a.size),
    dataCovered: ratio(shared, b.size),
    acyclic: { samples: shareOf(valid, acyclic), data: shareOf(reference, acyclic) },
  };
}

/** The number of set bits of a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function bitCount(fp: Uint32Array): number {
  let c = 0;
  for (let i = 0; i < fp.length; i++) c += popcount(fp[i]);
  return c;
}

/** Tanimoto similarity |a & b| / |a | b| of bit vectors with `na` and `nb` bits set; 1 for two empty ones, as MOSES. */
function tanimotoOf(a: Uint32Array, b: Uint32Array, na: number, nb: number): number {
  let common = 0;
  for (let i = 0; i < a.length; i++) common += popcount(a[i] & b[i]);
  const union = na + nb - common;
  return union === 0 ? 1 : common / union;
}

export function tanimoto(a: Uint32Array, b: Uint32Array): number {
  return tanimotoOf(a, b, bitCount(a), bitCount(b));
}

/** The mean Tanimoto similarity over all n^2 ordered pairs, each fingerprint with itself included. */
export function meanPairwiseTanimoto(fps: readonly Uint32Array[]): number {
  const counts = fps.map(bitCount);
  let sum = 0;
  for (let i = 0; i < fps.length; i++) for (let j = i + 1; j < fps.length; j++) sum += tanimotoOf(fps[i], fps[j], counts[i], counts[j]);
  return (fps.length + 2 * sum) / (fps.length * fps.length);
}

/** The mean over `fps` of the largest Tanimoto similarity to any of `reference`. */
export function meanNearestTanimoto(fps: readonly Uint32Array[], reference: readonly Uint32Array[]): number {
  const refCounts = reference.map(bitCount);
  let sum = 0;
  for (const fp of fps) {
    const n = bitCount(fp);
    let best = 0;
    for (let j = 0; j < reference.length && best < 1; j++) best = Math.max(best, tanimotoOf(fp, reference[j], n, refCounts[j]));
    sum += best;
  }
  return sum / fps.length;
}

/**
 * The Wasserstein-1 distance between the empirical distributions of `a` and `b`: the area between
 * their distribution functions (scipy's wasserstein_distance, which MOSES uses); null if either is empty.
 */
export function wasserstein1(a: readonly number[], b: readonly number[]): number | null {
  if (a.length === 0 || b.length === 0) return null;
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let at = Math.min(x[0], y[0]);
  let area = 0;
  while (i < x.length || j < y.length) {
    const next = j >= y.length || (i < x.length && x[i] <= y[j]) ? x[i] : y[j];
    area += Math.abs(i / x.length - j / y.length) * (next - at);
    at = next;
    while (i < x.length && x[i] === next) i++;
    while (j < y.length && y[j] === next) j++;
  }
  return area;
}

/** Two histograms of the names `names` gives each item of `samples` and of `data`, and their distance. */
function histograms<T>(samples: readonly T[], data: readonly T[], names: (item: T) => string[]): TypeDistribution {
  const count = (set: readonly T[]): Record<string, number> => {
    const h: Record<string, number> = {};
    for (const s of set) for (const n of names(s)) h[n] = (h[n] ?? 0) + 1;
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
