import { evaluateMolecules, PROPERTY_NAMES, type MoleculeProperties, type MoleculeReport, type MoleculeSample } from '../../eval/molecules';
import { BOND_TYPES, type MoleculeVocabulary } from '../../graphs/molecule';
import { formatJsonlLine, parseJsonl, type TypeNames } from '../../graphs/formats';
import { typedGraphOptions, type GridOptions } from '../../draw/svg';
import { GraphFormatError, type Graph } from '../../graphs/graph';
import { writeFileAtomic } from '../checkpoint';
import { readTextFile } from '../text';
import { validateConfig, type RunConfig } from '../config';
import { graphToSmiles, inferVocabulary, isMoleculeFile, loadRDKit, moleculeProfile, moleculeSvg, type RDKit, readSmilesFile, moleculesOf, surveyMolecules, typeFrequencies, type MoleculeCounts, type SurveyRow, type TypeCount } from '../molecules';

/**
 * `config` with its types: for a molecule file and a config that names no node types,
 * model.nodeTypes and model.edgeTypes inferred from the file (most frequent first); other
 * configs as they are.
 */
export async function moleculeConfig(config: RunConfig): Promise<RunConfig> {
  if (!isMoleculeFile(config.data.file) || config.model.nodeTypes.length > 0) return config;
  const rd = await loadRDKit();
  const types = inferVocabulary(rd, readSmilesFile(config.data.file), config.data.maxAtoms || null);
  return validateConfig({ ...config, model: { ...config.model, ...types } }, `the types of ${config.data.file}`);
}

/** What `molecules survey` finds in a file. */
export interface MoleculeSurvey {
  readonly file: string;
  readonly molecules: number;
  readonly atomTypes: TypeCount[];
  readonly moleculesWithType: TypeCount[];
  readonly bondTypes: TypeCount[];
  readonly kept: SurveyRow[];
  /** Molecules of several fragments (salts, mixtures): a model that joins every atom skips them. */
  readonly fragmented: number;
}

/**
 * The survey as a person reads it (pipeline/table.ts lays it out): one table of atom types with
 * their atoms and the molecules that have one, one of bond types, and the molecules kept as a
 * table of type sets (rows) against limits on heavy atoms (columns).
 */
export function surveyView(s: MoleculeSurvey): object {
  const withType = new Map(s.moleculesWithType.map((c) => [c.type, c.count]));
  const column = (maxAtoms: number | null): string => (maxAtoms === null ? 'any size' : `<= ${maxAtoms}`);
  const rows = new Map<string, Record<string, string | number>>();
  for (const r of s.kept) {
    const types = r.nodeTypes.join(',');
    const row = rows.get(types) ?? { 'atom types': types };
    row[column(r.maxAtoms)] = r.kept;
    rows.set(types, row);
  }
  return {
    file: s.file,
    molecules: s.molecules,
    'atom types': s.atomTypes.map((c) => ({ type: c.type, atoms: c.count, molecules: withType.get(c.type) ?? 0 })),
    'bond types': s.bondTypes.map((c) => ({ type: c.type, bonds: c.count })),
    'several fragments': `${s.fragmented} (skipped by a model that joins every atom, such as configs/molecules-finetune.json's)`,
    'molecules kept, by atom types (rows) and most heavy atoms (columns)': [...rows.values()],
  };
}

/** The atom-count limits a survey tries. */
const SURVEY_SIZES: readonly (number | null)[] = [15, 20, 23, 25, 30, 40, null];

/**
 * A molecule file's types and how many molecules each filter keeps: atom types added most
 * frequent molecule count first, against the SURVEY_SIZES limits on heavy atoms.
 */
export async function runMoleculeSurvey(file: string, maxTypes: number): Promise<MoleculeSurvey> {
  const rd = await loadRDKit();
  const entries = readSmilesFile(file);
  const freq = typeFrequencies(rd, entries, null);
  const order = freq.molecules.map((c) => c.type).slice(0, maxTypes);
  const typeSets = order.map((_, k) => order.slice(0, k + 1));
  const { rows, fragmented } = surveyMolecules(rd, entries, SURVEY_SIZES, typeSets);
  return { file, molecules: entries.length, atomTypes: freq.atoms, moleculesWithType: freq.molecules, bondTypes: freq.bonds, kept: rows, fragmented };
}

/**
 * The molecules of `file` that have at most `maxAtoms` heavy atoms and only `nodeTypes` atoms, as
 * typed JSONL (type names) in `out`; unparsable and unrepresentable molecules are skipped and
 * counted. `configOut` gets the config keys a run on `out` needs (model.nodeTypes, model.edgeTypes,
 * data.file, sample.vMax).
 */
export async function runMoleculeExport(file: string, out: string, configOut: string, nodeTypes: readonly string[], maxAtoms: number): Promise<MoleculeCounts & { out: string; config: string }> {
  const rd = await loadRDKit();
  const vocab: MoleculeVocabulary = { nodeTypes, edgeTypes: BOND_TYPES };
  const set = moleculesOf(rd, readSmilesFile(file), vocab, { maxAtoms, skipOutsideTypes: true, skipUnparsable: true });
  writeFileAtomic(out, set.graphs.map((g) => `${formatJsonlLine(g, vocab)}\n`).join(''));
  const config = { data: { file: out }, model: { nodeTypes: vocab.nodeTypes, edgeTypes: vocab.edgeTypes }, sample: { vMax: maxAtoms } };
  writeFileAtomic(configOut, `${JSON.stringify(config, null, 2)}\n`);
  return { ...set.counts, out, config: configOut };
}

/** Captions longer than this are cut, so they fit under a grid cell. */
const CAPTION_CHARS = 17;

/**
 * How `draw` shows sampled molecules: RDKit's depiction of each valid one (marked valid, its
 * SMILES as caption); an invalid one as nodes labelled by atom type and edges drawn as 1-3
 * lines by bond order, marked invalid.
 */
export function moleculeGridOptions(rd: RDKit, graphs: readonly Graph[], vocab: MoleculeVocabulary): Required<Pick<GridOptions, 'valid' | 'drawings' | 'captions' | 'elements'>> {
  const smiles = graphs.map((g) => graphToSmiles(rd, g, vocab));
  return {
    valid: smiles.map((s) => s !== null),
    drawings: smiles.map((s) => (s === null ? null : moleculeSvg(rd, s, 164))),
    captions: smiles.map((s, i) => (s === null ? `${graphs[i].numNodes} atoms` : s.length > CAPTION_CHARS ? `${s.slice(0, CAPTION_CHARS - 1)}…` : s)),
    elements: (i) => typedGraphOptions(graphs[i], vocab),
  };
}

/** Molecule measures of sampled graphs against training graphs, both typed by `vocab`. */
export async function moleculeMeasures(samples: readonly Graph[], train: readonly Graph[], vocab: MoleculeVocabulary): Promise<MoleculeReport> {
  const rd = await loadRDKit();
  const profiled = (graph: Graph): MoleculeSample => ({ graph, profile: moleculeProfile(rd, graph, vocab) });
  return evaluateMolecules(samples.map(profiled), train.map(profiled), vocab);
}

/** The type names of a config's model.nodeTypes and model.edgeTypes, read as plain JSON. */
function configTypeNames(file: string): TypeNames {
  const text = readTextFile(file, GraphFormatError);
  let json: { model?: { nodeTypes?: unknown; edgeTypes?: unknown } };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (e) {
    throw new GraphFormatError(file, `not a config: ${(e as Error).message}`);
  }
  const names = (x: unknown, key: string): string[] => {
    if (!Array.isArray(x) || x.length === 0 || !x.every((n) => typeof n === 'string')) throw new GraphFormatError(file, `${key} must be a non-empty list of type names`);
    return [...(x as string[])];
  };
  return { nodeTypes: names(json.model?.nodeTypes, 'model.nodeTypes'), edgeTypes: names(json.model?.edgeTypes, 'model.edgeTypes') };
}

/**
 * Molecule measures of a typed JSONL sample file against a typed JSONL training file, their types
 * (names or indexes) read against `configFile`'s model.nodeTypes and model.edgeTypes.
 */
export async function runMoleculeEvalJsonl(samplesFile: string, trainFile: string, configFile: string): Promise<{ context: { samplesFile: string; trainFile: string }; report: MoleculeReport }> {
  const names = configTypeNames(configFile);
  const read = (file: string): Graph[] => parseJsonl(readTextFile(file, GraphFormatError), file, names);
  const data = read(trainFile);
  const samples = read(samplesFile);
  return { context: { samplesFile, trainFile }, report: await moleculeMeasures(samples, data, names) };
}

const PROPERTY_LABELS: Readonly<Record<keyof MoleculeProperties, string>> = { heavyAtoms: 'heavy atoms', weight: 'molecular weight', logP: 'logP (Crippen)', tpsa: 'TPSA', rings: 'rings' };

/**
 * The molecule measures as rows for a person: measure, samples, data, and how far apart they are.
 * The report object holds all of it (and more: the histograms); this picks what a reader compares.
 */
export function moleculeRows(r: MoleculeReport): string[][] {
  const f = (x: number | null, digits = 3): string => (x === null ? '-' : x.toFixed(digits));
  const of = (a: number, b: number): string => `${a} of ${b}`;
  return [
    ['measure', 'samples', 'data', 'distance'],
    ['validity', f(r.validity), '', of(r.valid, r.samples)],
    ['uniqueness', f(r.uniqueness), '', of(r.unique, r.valid)],
    ['novelty', f(r.novelty), '', of(r.novel, r.unique)],
    ['internal diversity', f(r.internalDiversity), '', ''],
    ['SNN to data', f(r.snn), '', ''],
    ['scaffolds (distinct)', String(r.scaffolds.samples), String(r.scaffolds.data), `${r.scaffolds.shared} shared`],
    ['novel scaffolds', f(r.scaffolds.novel), '', ''],
    ['data scaffolds made', '', f(r.scaffolds.dataCovered), ''],
    ['acyclic', f(r.scaffolds.acyclic.samples), f(r.scaffolds.acyclic.data), ''],
    ['3-membered ring', f(r.threeMemberedRing.samples), f(r.threeMemberedRing.data), ''],
    ['several fragments', f(r.severalFragments.samples), f(r.severalFragments.data), ''],
    ['ring sizes', '', '', `TV ${f(r.ringSizes.totalVariation)}`],
    ...PROPERTY_NAMES.map((k) => {
      const p = r.properties[k];
      return [`${PROPERTY_LABELS[k]} (mean)`, f(p.samplesMean, 2), f(p.dataMean, 2), `W1 ${f(p.wasserstein)}`];
    }),
    ['atom types', '', '', `TV ${f(r.atomTypes.totalVariation)}`],
    ['bond types', '', '', `TV ${f(r.bondTypes.totalVariation)}`],
  ];
}

/** Rows as text: the first column left-aligned, the others right-aligned, two spaces between. */
export function alignedTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n') + '\n';
}

/**
 * The molecule measures of the molecules of one SMILES file against another's (.smi or .csv), with
 * the atom types of both; what does not parse, has a bond other than single, double or triple, or
 * has a SMILES no graph carries, is skipped and counted. Half a data set against its other half says what values a model could reach.
 */
export async function runMoleculeCompare(samplesFile: string, dataFile: string): Promise<{ context: { samplesFile: string; dataFile: string; samplesRead: MoleculeCounts; dataRead: MoleculeCounts }; report: MoleculeReport }> {
  const rd = await loadRDKit();
  const samples = readSmilesFile(samplesFile);
  const data = readSmilesFile(dataFile);
  const vocab = { nodeTypes: inferVocabulary(rd, [...samples, ...data], null).nodeTypes, edgeTypes: BOND_TYPES };
  const skip = { maxAtoms: null, skipOutsideTypes: true, skipUnparsable: true };
  const a = moleculesOf(rd, samples, vocab, skip);
  const b = moleculesOf(rd, data, vocab, skip);
  if (a.graphs.length === 0) throw new GraphFormatError(samplesFile, 'has no molecule to measure');
  return { context: { samplesFile, dataFile, samplesRead: a.counts, dataRead: b.counts }, report: await moleculeMeasures(a.graphs, b.graphs, vocab) };
}
