import initRDKitModule, { type MainModule, type Mol } from '@rdkit/rdkit';
import { GraphFormatError, type Graph } from '../graphs/graph';
import { isConnected } from '../graphs/families';
import { AtomicFile } from './atomic';
import { readTextFile } from './text';
import { MORGAN_BITS, MORGAN_RADIUS, type MoleculeProfile } from '../eval/molecules';
import {
  BOND_TYPES,
  assertMoleculeVocabulary,
  atomTypeName,
  bondTypeName,
  isMoleculeVocabulary,
  isOutsideVocabulary,
  molblockOfGraph,
  murckoFramework,
  moleculeFromCommonChem,
  moleculeGraph,
  type MoleculeRecord,
  type MoleculeVocabulary,
  type OutsideVocabulary,
  type TypedGraph,
} from '../graphs/molecule';

/**
 * Molecules in and out through RDKit MinimalLib (WebAssembly): SMILES files read into typed
 * graphs (graphs/molecule.ts), typed graphs written back as SMILES. RDKit is loaded once per
 * thread; every RDKit molecule made here is freed (`mol.delete()`) before the function returns.
 */

/** RDKit's module, and the capture of its error log that supplies the reasons of failed parses. */
export interface RDKit {
  readonly module: MainModule;
  /** RDKit's error messages since the last `reason`, without their timestamps; the buffer is emptied. */
  reason(): string;
}

let loading: Promise<RDKit> | null = null;

/**
 * RDKit, loaded on the first call in this thread (60-140 ms) and shared afterwards. Its log goes
 * to a capture instead of stderr: a failed parse's message becomes the reason in our error.
 */
export function loadRDKit(): Promise<RDKit> {
  loading ??= initRDKitModule().then((module) => {
    module.disable_logging();
    const log = module.set_log_capture('rdApp.error');
    if (!log) throw new Error('RDKit: cannot capture the error log');
    return {
      module,
      reason(): string {
        const lines = log.get_buffer().split('\n').map((l) => l.replace(/^\[[0-9:]+\]\s*/, '').trim()).filter((l) => l !== '');
        log.clear_buffer();
        return lines[0] ?? '';
      },
    };
  });
  return loading;
}

/** `use(mol)` for the molecule RDKit makes of `input`, or null when it cannot; the molecule is freed either way. */
function withMol<T>(rd: RDKit, input: string, use: (mol: Mol) => T): T | null {
  const mol = rd.module.get_mol(input);
  if (!mol) return null;
  try {
    return mol.is_valid() ? use(mol) : null;
  } finally {
    mol.delete();
  }
}

// Stereo and isotopes are no part of the graph, so the SMILES that names a molecule leaves them out.
const CANONICAL = JSON.stringify({ doIsomericSmiles: false, canonical: true });

/** A molecule read from one SMILES, atoms in canonical SMILES order. */
export interface ParsedMolecule {
  /** RDKit's canonical SMILES, without stereo or isotopes. */
  readonly smiles: string;
  /** Atoms and kekulized bonds; atom i is the i-th atom written in `smiles`. */
  readonly record: MoleculeRecord;
  /** Atoms and bonds as the input SMILES wrote them, so that messages can point into the user's text. */
  readonly asWritten: MoleculeRecord;
}

/**
 * The molecule of `smiles`, or RDKit's reason for refusing it. Canonical atom order: RDKit's
 * canonical SMILES is written and parsed again, and a parsed SMILES numbers its atoms in the
 * order it writes them, so atom i is the canonical SMILES' i-th atom. Two SMILES of one molecule
 * give one canonical SMILES, hence the same atoms, order and (kekulized) bonds.
 */
export function parseMolecule(rd: RDKit, smiles: string): ParsedMolecule | { error: string } {
  rd.reason();
  const first = withMol(rd, smiles, (mol) => ({ asWritten: moleculeFromCommonChem(mol.get_json()), canonical: mol.get_smiles(CANONICAL) }));
  if (!first) return { error: rd.reason() || 'RDKit rejects it' };
  // Written without stereo or isotopes, "[2H]C" becomes "[H]C", whose reparse drops the hydrogen: the reparse names the molecule.
  const again = withMol(rd, first.canonical, (mol) => ({ record: moleculeFromCommonChem(mol.get_json()), smiles: mol.get_smiles(CANONICAL) }));
  if (!again) return { error: `its canonical SMILES ${first.canonical} does not parse again: ${rd.reason()}` };
  return { ...again, asWritten: first.asWritten };
}

/**
 * The canonical SMILES (no stereo, no isotopes) of a typed graph, or null when RDKit does not
 * sanitize it (a valence is exceeded, say) or the graph has no atoms (no molecule at all).
 */
export function graphToSmiles(rd: RDKit, g: Graph, vocab: MoleculeVocabulary): string | null {
  if (g.numNodes === 0) return null;
  const smiles = withMol(rd, molblockOfGraph(g, vocab), (mol) => mol.get_smiles(CANONICAL));
  rd.reason();
  return smiles;
}

const MORGAN = JSON.stringify({ radius: MORGAN_RADIUS, nBits: MORGAN_BITS });

/** The atom rings RDKit records in its CommonChem extension (atom indexes, one list a ring). */
function atomRings(json: string): number[][] {
  const doc = JSON.parse(json) as { molecules: Array<{ extensions?: Array<{ name?: string; atomRings?: number[][] }> }> };
  return doc.molecules[0]?.extensions?.find((e) => e.name === 'rdkitRepresentation')?.atomRings ?? [];
}

/**
 * What the molecule measures need of a typed graph (eval/molecules.ts), or null when RDKit does not
 * sanitize it. Descriptors are RDKit's (its descriptor JSON), the framework is cut on the graph
 * (murckoFramework) and named by RDKit's canonical SMILES.
 */
export function moleculeProfile(rd: RDKit, g: Graph, vocab: MoleculeVocabulary): MoleculeProfile | null {
  if (g.numNodes === 0) return null;
  const measured = withMol(rd, molblockOfGraph(g, vocab), (mol) => {
    const d = JSON.parse(mol.get_descriptors()) as Record<string, number>;
    const bytes = Uint8Array.from(mol.get_morgan_fp_as_uint8array(MORGAN) as Uint8Array);
    return {
      smiles: mol.get_smiles(CANONICAL),
      fingerprint: new Uint32Array(bytes.buffer),
      ringSizes: atomRings(mol.get_json()).map((r) => r.length),
      properties: { heavyAtoms: g.numNodes, weight: d.amw, logP: d.CrippenClogP, tpsa: d.tpsa, rings: d.NumRings },
    };
  });
  rd.reason();
  if (measured === null) return null;
  const framework = murckoFramework(g, vocab);
  return { ...measured, scaffold: framework.numNodes === 0 ? null : graphToSmiles(rd, framework, vocab) };
}

/**
 * A sampled graph as a line of a .smi file: its canonical SMILES, or, when RDKit does not
 * sanitize it, a comment line saying so (readers of .smi skip # lines), so that line i is
 * sample i and no invalid sample goes unmentioned.
 */
export function smiLine(rd: RDKit, g: Graph, vocab: MoleculeVocabulary, index: number): string {
  return graphToSmiles(rd, g, vocab) ?? `# sample ${index + 1}: not a molecule (${g.numNodes} atoms, ${g.edges.length} bonds; RDKit does not sanitize it)`;
}

/**
 * Fills a .smi file with the sampled graphs `fill` hands to `write` (typed by `names`, the
 * model's type names), one smiLine each, and puts it in place only when `fill` has finished, as
 * writeGraphFile does for graph files. Also says how many samples were not molecules.
 */
export async function writeSmilesFile<T>(file: string, rd: RDKit, fill: (write: (graphs: readonly Graph[], names: MoleculeVocabulary) => void) => Promise<T>): Promise<{ result: T; invalid: number }> {
  const out = new AtomicFile(file, 'SMILES');
  let written = 0;
  let invalid = 0;
  try {
    const result = await fill((graphs, names) => {
      if (!isMoleculeVocabulary(names)) throw new Error(`${file}: SMILES need a model of molecules (atom types and single/double/triple bonds), not node types [${names.nodeTypes.join(', ')}] and edge types [${names.edgeTypes.join(', ')}]`);
      const lines = graphs.map((g) => smiLine(rd, g, names, written++));
      invalid += lines.filter((l) => l.startsWith('#')).length;
      out.append(lines.map((l) => `${l}\n`).join(''));
    });
    out.commit();
    return { result, invalid };
  } catch (e) {
    out.abort();
    throw e;
  }
}

/** RDKit's depiction of the molecule of `smiles`, `size` pixels square; null when it does not parse. */
export function moleculeSvg(rd: RDKit, smiles: string, size: number): string | null {
  return withMol(rd, smiles, (mol) => mol.get_svg(size, size));
}

/** One SMILES of a file and where it is (`file:line`). */
export interface SmilesEntry {
  readonly smiles: string;
  readonly where: string;
}

/** The SMILES of a .smi or .csv file (by extension, any case); errors name the file and line. */
export function readSmilesFile(file: string): SmilesEntry[] {
  const ext = (/\.[^./\\]*$/.exec(file)?.[0] ?? '').toLowerCase();
  if (ext !== '.smi' && ext !== '.csv') throw new GraphFormatError(file, `unknown molecule file type ${JSON.stringify(ext)}: use .smi (one SMILES a line) or .csv (a SMILES column)`);
  const text = readTextFile(file, GraphFormatError);
  return ext === '.smi' ? smiLines(text, file) : csvSmiles(text, file);
}

/** Whether a molecule file reader takes `file` (.smi, .csv). */
export function isMoleculeFile(file: string): boolean {
  return /\.(smi|csv)$/i.test(file);
}

/**
 * A .smi text: the SMILES is a line's first field, anything after whitespace its name. Blank
 * lines and lines starting with # are skipped, and so is a first line whose first field is
 * "smiles" (any case): a header, as RDKit's SmilesWriter writes one.
 */
export function smiLines(text: string, file: string): SmilesEntry[] {
  const out: SmilesEntry[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const smiles = line.trim().split(/\s+/)[0];
    if (smiles === '' || smiles.startsWith('#') || (out.length === 0 && smiles.toLowerCase() === 'smiles')) return;
    out.push({ smiles, where: `${file}:${i + 1}` });
  });
  return out;
}

/**
 * A CSV text's SMILES column: the column whose header is "smiles" (any case, after trimming). A
 * first row with no such field is data, not a header, and the SMILES are in the first column
 * (rdkit-data's wehi_mols.csv has no header). Fields may be quoted ("a,b", "" for a quote);
 * blank lines are skipped.
 */
export function csvSmiles(text: string, file: string): SmilesEntry[] {
  const out: SmilesEntry[] = [];
  let column = -1;
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}:${i + 1}`;
    const fields = csvFields(line, where);
    if (column < 0) {
      column = fields.findIndex((f) => f.trim().toLowerCase() === 'smiles');
      if (column >= 0) return;
      column = 0;
    }
    const smiles = (fields[column] ?? '').trim();
    if (smiles === '') throw new GraphFormatError(where, `no SMILES in column ${column + 1}`);
    out.push({ smiles, where });
  });
  return out;
}

/** The fields of one CSV line (RFC 4180 quoting, no line breaks inside a field). */
export function csvFields(line: string, where: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) throw new GraphFormatError(where, `a quoted field opened at column ${i + 1} is not closed`);
        value += line.slice(j, q);
        if (line[q + 1] === '"') {
          value += '"';
          j = q + 2;
        } else {
          j = q + 1;
          break;
        }
      }
      if (j < line.length && line[j] !== ',') throw new GraphFormatError(where, `unexpected ${JSON.stringify(line[j])} after the quoted field at column ${i + 1}`);
      fields.push(value);
      i = j;
    } else {
      const comma = line.indexOf(',', i);
      fields.push(line.slice(i, comma < 0 ? line.length : comma));
      i = comma < 0 ? line.length : comma;
    }
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

/** Which molecules a read skips (and counts) instead of refusing the file. */
export interface MoleculeFilter {
  /** Skip molecules with more heavy atoms than this; null: keep every size. */
  readonly maxAtoms: number | null;
  /** Skip molecules with an atom or bond type outside the vocabulary; else such a molecule is an error. */
  readonly skipOutsideTypes: boolean;
  /** Skip SMILES RDKit cannot parse; else such a line is an error. */
  readonly skipUnparsable: boolean;
  /**
   * Skip molecules of several fragments (salts, mixtures), which a model under model.constraints
   * connected cannot teach; unset, they are kept (and such a model refuses them by name).
   */
  readonly skipFragmented?: boolean;
}

export const STRICT: MoleculeFilter = { maxAtoms: null, skipOutsideTypes: false, skipUnparsable: false };

/** What became of a file's molecules, for the summary. */
export interface MoleculeCounts {
  readonly read: number;
  readonly kept: number;
  readonly unparsable: number;
  readonly tooLarge: number;
  readonly outsideTypes: number;
  /**
   * Molecules the graph cannot carry: written back from the graph they give another SMILES
   * (radicals, or hydrogen counts other than the default valence's, such as [SH]). Always skipped.
   */
  readonly notRepresentable: number;
  /**
   * Molecules of several fragments, skipped for a model whose every atom joins the molecule
   * (MoleculeFilter.skipFragmented); absent when the read keeps them.
   */
  readonly fragmented?: number;
}

export interface MoleculeSet {
  /** Kept molecules as typed graphs, atoms in canonical SMILES order. */
  readonly graphs: TypedGraph[];
  /** Their canonical SMILES, entry by entry. */
  readonly smiles: string[];
  /** Where each is in its file (`file:line`). */
  readonly where: string[];
  readonly counts: MoleculeCounts;
}

/** "atom 3 (N+)" / "bond 2 (triple)": an outside type and where the SMILES as written has it. */
function describeOutside(o: OutsideVocabulary, mol: MoleculeRecord): string {
  if (o.kind === 'atom') return `atom ${o.index} (0-based, in the order the SMILES writes its atoms) has type ${o.type}`;
  const [u, v] = mol.bonds[o.index].atoms;
  return `the bond between atoms ${u} and ${v} (0-based, as written) is ${o.type}`;
}

/**
 * The molecules of `entries` as typed graphs of `vocab`, skipping and counting what `filter`
 * says. Without the skips, an unparsable SMILES and a type outside the vocabulary are
 * GraphFormatErrors naming file:line and the reason (RDKit's, or the atom and its type).
 */
export function moleculesOf(rd: RDKit, entries: readonly SmilesEntry[], vocab: MoleculeVocabulary, filter: MoleculeFilter): MoleculeSet {
  assertMoleculeVocabulary(vocab);
  const graphs: TypedGraph[] = [];
  const smiles: string[] = [];
  const at: string[] = [];
  const counts = { read: entries.length, kept: 0, unparsable: 0, tooLarge: 0, outsideTypes: 0, notRepresentable: 0 };
  let fragmented = 0;
  for (const { smiles: input, where } of entries) {
    const parsed = parseMolecule(rd, input);
    if ('error' in parsed) {
      if (filter.skipUnparsable) {
        counts.unparsable++;
        continue;
      }
      throw new GraphFormatError(where, `RDKit cannot parse ${input}: ${parsed.error}`);
    }
    if (filter.maxAtoms !== null && parsed.record.atoms.length > filter.maxAtoms) {
      counts.tooLarge++;
      continue;
    }
    const outside = moleculeGraph(parsed.asWritten, vocab);
    if (isOutsideVocabulary(outside)) {
      if (filter.skipOutsideTypes) {
        counts.outsideTypes++;
        continue;
      }
      throw new GraphFormatError(where, `${input}: ${describeOutside(outside, parsed.asWritten)}, which is not among the atom types [${vocab.nodeTypes.join(', ')}] and bond types [${vocab.edgeTypes.join(', ')}]`);
    }
    const g = moleculeGraph(parsed.record, vocab) as TypedGraph;
    if (graphToSmiles(rd, g, vocab) !== parsed.smiles) {
      counts.notRepresentable++;
      continue;
    }
    if (filter.skipFragmented && !isConnected(g)) {
      fragmented++;
      continue;
    }
    graphs.push(g);
    smiles.push(parsed.smiles);
    at.push(where);
    counts.kept++;
  }
  return { graphs, smiles, where: at, counts: filter.skipFragmented ? { ...counts, fragmented } : counts };
}

/** The molecules of a .smi or .csv file (readSmilesFile, then moleculesOf). */
export function readMoleculeFile(rd: RDKit, file: string, vocab: MoleculeVocabulary, filter: MoleculeFilter): MoleculeSet {
  return moleculesOf(rd, readSmilesFile(file), vocab, filter);
}

/**
 * A molecule file as a dataset (for loadDataset): its molecules as typed graphs of `vocab`, or,
 * when `vocab` names no node types, of the types the file's molecules within `filter.maxAtoms`
 * have, most frequent first (inferVocabulary).
 */
export function loadMolecules(rd: RDKit, file: string, vocab: MoleculeVocabulary, filter: MoleculeFilter): MoleculeSet & { readonly vocab: MoleculeVocabulary } {
  return typedMolecules(rd, readSmilesFile(file), vocab, filter);
}

/**
 * The molecules of `entries` as typed graphs of `vocab`, or, when `vocab` names no node types, of
 * the types the molecules within `filter.maxAtoms` have, most frequent first (inferVocabulary).
 */
export function typedMolecules(rd: RDKit, entries: readonly SmilesEntry[], vocab: MoleculeVocabulary, filter: MoleculeFilter): MoleculeSet & { readonly vocab: MoleculeVocabulary } {
  const types = vocab.nodeTypes.length > 0 ? vocab : inferVocabulary(rd, entries, filter.maxAtoms);
  return { ...moleculesOf(rd, entries, types, filter), vocab: types };
}

/** How often each type occurs. */
export interface TypeCount {
  readonly type: string;
  readonly count: number;
}

/**
 * The atom and bond types of the molecules of `entries` that parse and have at most `maxAtoms`
 * heavy atoms (null: all), most frequent first (ties by name), for a user who names no types;
 * and, per atom type, the number of molecules that contain it.
 */
export function typeFrequencies(rd: RDKit, entries: readonly SmilesEntry[], maxAtoms: number | null): { atoms: TypeCount[]; bonds: TypeCount[]; molecules: TypeCount[] } {
  const atoms = new Map<string, number>();
  const bonds = new Map<string, number>();
  const molecules = new Map<string, number>();
  const add = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  for (const { smiles } of entries) {
    const parsed = parseMolecule(rd, smiles);
    if ('error' in parsed || (maxAtoms !== null && parsed.record.atoms.length > maxAtoms)) continue;
    const types = parsed.record.atoms.map((a) => atomTypeName(a.element, a.charge));
    types.forEach((t) => add(atoms, t));
    new Set(types).forEach((t) => add(molecules, t));
    parsed.record.bonds.forEach((b) => add(bonds, bondTypeName(b.order)));
  }
  const sorted = (m: Map<string, number>): TypeCount[] =>
    [...m].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return { atoms: sorted(atoms), bonds: sorted(bonds), molecules: sorted(molecules) };
}

/** A vocabulary of every type the molecules of `entries` have, most frequent first. */
export function inferVocabulary(rd: RDKit, entries: readonly SmilesEntry[], maxAtoms: number | null): MoleculeVocabulary {
  const { atoms, bonds } = typeFrequencies(rd, entries, maxAtoms);
  return { nodeTypes: atoms.map((c) => c.type), edgeTypes: bonds.map((c) => c.type) };
}

/** How many molecules a filter keeps: at most `maxAtoms` heavy atoms (null: any), atom types within `nodeTypes`. */
export interface SurveyRow {
  readonly maxAtoms: number | null;
  readonly nodeTypes: readonly string[];
  readonly kept: number;
}

/**
 * The molecules of `entries` each (maxAtoms, atom types) filter keeps, every bond type allowed;
 * molecules that do not parse or that no graph represents are kept by none. Each molecule is
 * read once, whatever the number of filters. `fragmented` counts the represented molecules of
 * several fragments, which a model that joins every atom skips (MoleculeFilter.skipFragmented).
 */
export function surveyMolecules(rd: RDKit, entries: readonly SmilesEntry[], maxAtoms: readonly (number | null)[], typeSets: readonly (readonly string[])[]): { rows: SurveyRow[]; fragmented: number } {
  const seen: Array<{ atoms: number; types: Set<string> }> = [];
  let fragmented = 0;
  for (const { smiles } of entries) {
    const parsed = parseMolecule(rd, smiles);
    if ('error' in parsed) continue;
    const types = new Set(parsed.record.atoms.map((a) => atomTypeName(a.element, a.charge)));
    const own = { nodeTypes: [...types], edgeTypes: parsed.record.bonds.map((b) => bondTypeName(b.order)).filter((t, i, all) => all.indexOf(t) === i) };
    const g = moleculeGraph(parsed.record, own);
    if (!isOutsideVocabulary(g) && own.edgeTypes.every((t) => BOND_TYPES.includes(t)) && graphToSmiles(rd, g, own) === parsed.smiles) {
      seen.push({ atoms: parsed.record.atoms.length, types });
      if (!isConnected(g)) fragmented++;
    }
  }
  const rows = maxAtoms.flatMap((m) =>
    typeSets.map((nodeTypes) => ({
      maxAtoms: m,
      nodeTypes,
      kept: seen.filter((s) => (m === null || s.atoms <= m) && [...s.types].every((t) => nodeTypes.includes(t))).length,
    })),
  );
  return { rows, fragmented };
}
