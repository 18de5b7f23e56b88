import type { TypeNames } from './formats';
import { Graph, GraphFormatError } from './graph';

/**
 * Molecules as typed graphs (docs/design.md, 'Molecules'; DGL-LifeSci's DGMG): a node is a heavy atom
 * whose type is its element plus its formal charge where nonzero ("C", "N+", "O-", "Fe2+"), an
 * edge is a bond of the kekulized molecule whose type is its order ("single", "double",
 * "triple"), and hydrogens are implicit: RDKit gives every atom the hydrogens its default valence
 * asks for, so a graph fixes the molecule. Pure: RDKit's records come in as text, molblocks go out.
 */

/** The bond types, indexed by bond order - 1. */
export const BOND_TYPES: readonly string[] = ['single', 'double', 'triple'];

/** Element symbols by atomic number (index 0 is RDKit's dummy atom "*"). */
const ELEMENTS = (
  '* H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr ' +
  'Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb ' +
  'Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf ' +
  'Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og'
).split(' ');

/** Node and edge type names of a typed model (the config's model.nodeTypes and model.edgeTypes). */
export type MoleculeVocabulary = TypeNames;

/** One atom of a molecule as RDKit records it. */
export interface AtomRecord {
  readonly element: string;
  readonly charge: number;
}

/** One bond: its order (1, 2, 3; RDKit writes 0 for a zero-order bond) and the atoms it joins. */
export interface BondRecord {
  readonly order: number;
  readonly atoms: readonly [number, number];
}

export interface MoleculeRecord {
  readonly atoms: readonly AtomRecord[];
  readonly bonds: readonly BondRecord[];
  /** Atoms with unpaired electrons: a graph cannot say so, so such a molecule is not representable. */
  readonly radicals: number;
}

/** "C", "N+", "O-", "Fe2+", "S2-": the element, then the charge's size when above 1, then its sign. */
export function atomTypeName(element: string, charge: number): string {
  if (charge === 0) return element;
  return `${element}${Math.abs(charge) === 1 ? '' : Math.abs(charge)}${charge > 0 ? '+' : '-'}`;
}

/** The element and formal charge an atom type name stands for; throws for a name atomTypeName cannot make. */
export function parseAtomType(name: string): AtomRecord {
  const m = /^([A-Z][a-z]?)(?:(\d*)([+-]))?$/.exec(name);
  if (!m || !ELEMENTS.includes(m[1]) || m[2] === '0' || m[2] === '1') {
    throw new Error(`"${name}" is not an atom type: write an element symbol with an optional charge, e.g. C, N+, O-, Fe2+`);
  }
  const size = m[3] === undefined ? 0 : m[2] === '' ? 1 : Number(m[2]);
  return { element: m[1], charge: m[3] === '-' ? -size : size };
}

/**
 * RDKit's names of the bond types beyond BOND_TYPES, by the number its JSON writes for them (the
 * value of its BondType enumeration, except 0, which it writes for both a zero-order bond and an
 * unspecified one). A survey names them; no model has them.
 */
const OTHER_BOND_TYPES: Readonly<Record<number, string>> = {
  0: 'zero-order or unspecified',
  4: 'quadruple',
  5: 'quintuple',
  6: 'hextuple',
  7: 'one-and-a-half',
  8: 'two-and-a-half',
  9: 'three-and-a-half',
  10: 'four-and-a-half',
  11: 'five-and-a-half',
  12: 'aromatic',
  13: 'ionic',
  14: 'hydrogen',
  15: 'three-center',
  16: 'dative-one',
  17: 'dative',
  18: 'dative-left',
  19: 'dative-right',
  20: 'other',
  21: 'zero-order',
};

/** The type name of a bond order: 1 "single", 2 "double", 3 "triple", RDKit's name for any other. */
export function bondTypeName(order: number): string {
  return BOND_TYPES[order - 1] ?? OTHER_BOND_TYPES[order] ?? `unknown bond type ${order}`;
}

/** Checks that a vocabulary's names are atom types and bond types, each once; throws naming the first that is not. */
export function assertMoleculeVocabulary(vocab: MoleculeVocabulary): void {
  vocab.nodeTypes.forEach((name) => parseAtomType(name));
  for (const name of vocab.edgeTypes) if (!BOND_TYPES.includes(name)) throw new Error(`"${name}" is not a bond type: use ${BOND_TYPES.join(', ')}`);
  for (const names of [vocab.nodeTypes, vocab.edgeTypes]) {
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new Error(`type "${twice}" is listed twice`);
  }
}

/** Whether every node type is an atom type and every edge type a bond type (a model of molecules). */
export function isMoleculeVocabulary(vocab: MoleculeVocabulary): boolean {
  try {
    assertMoleculeVocabulary(vocab);
  } catch {
    return false;
  }
  return vocab.nodeTypes.length > 0 && vocab.edgeTypes.length > 0;
}

interface CommonChemAtom {
  z?: number;
  chg?: number;
  nRad?: number;
}
interface CommonChemBond {
  bo?: number;
  atoms: [number, number];
}
interface CommonChem {
  defaults?: { atom?: CommonChemAtom; bond?: { bo?: number } };
  molecules: Array<{ atoms?: CommonChemAtom[]; bonds?: CommonChemBond[] }>;
}

/**
 * The atoms and bonds of RDKit's `mol.get_json()` (CommonChem JSON: atoms list only what differs
 * from `defaults`). RDKit writes the bonds of the kekulized molecule there, orders 1 to 3.
 */
export function moleculeFromCommonChem(json: string): MoleculeRecord {
  const doc = JSON.parse(json) as CommonChem;
  const atomDefault = doc.defaults?.atom ?? {};
  const bondOrder = doc.defaults?.bond?.bo ?? 1;
  const mol = doc.molecules[0] ?? {};
  let radicals = 0;
  const atoms = (mol.atoms ?? []).map((a) => {
    const z = a.z ?? atomDefault.z ?? 6;
    if ((a.nRad ?? atomDefault.nRad ?? 0) > 0) radicals++;
    return { element: ELEMENTS[z] ?? `#${z}`, charge: a.chg ?? atomDefault.chg ?? 0 };
  });
  const bonds = (mol.bonds ?? []).map((b) => ({ order: b.bo ?? bondOrder, atoms: [b.atoms[0], b.atoms[1]] as const }));
  return { atoms, bonds, radicals };
}

/** Why a molecule is not a graph of a vocabulary: the first atom (0-based index) or bond whose type is not in it. */
export interface OutsideVocabulary {
  readonly kind: 'atom' | 'bond';
  readonly type: string;
  readonly index: number;
}

/** A graph whose nodes and edges carry type indexes (docs/design.md, 'Files'). */
export type TypedGraph = Graph & { readonly nodeTypes: readonly number[]; readonly edgeTypes: readonly number[] };

/**
 * The typed graph of a molecule: node i is atom i, edge k is bond k; or the first atom or bond
 * whose type the vocabulary lacks.
 */
export function moleculeGraph(mol: MoleculeRecord, vocab: MoleculeVocabulary): TypedGraph | OutsideVocabulary {
  const nodeTypes: number[] = [];
  for (let i = 0; i < mol.atoms.length; i++) {
    const type = atomTypeName(mol.atoms[i].element, mol.atoms[i].charge);
    const k = vocab.nodeTypes.indexOf(type);
    if (k < 0) return { kind: 'atom', type, index: i };
    nodeTypes.push(k);
  }
  const edgeTypes: number[] = [];
  for (let i = 0; i < mol.bonds.length; i++) {
    const type = bondTypeName(mol.bonds[i].order);
    const k = vocab.edgeTypes.indexOf(type);
    if (k < 0) return { kind: 'bond', type, index: i };
    edgeTypes.push(k);
  }
  return { numNodes: mol.atoms.length, edges: mol.bonds.map((b) => b.atoms), nodeTypes, edgeTypes };
}

/** Whether `x` is the answer moleculeGraph gives for a molecule outside the vocabulary. */
export function isOutsideVocabulary(x: TypedGraph | OutsideVocabulary): x is OutsideVocabulary {
  return 'kind' in x;
}

/**
 * A typed graph as a V3000 molblock, the input RDKit reads without guessing anything: no
 * hydrogen counts are written, so RDKit gives each atom its default valence's implicit
 * hydrogens, and every bond order is explicit (no aromaticity to perceive). V3000 has no
 * 999-atom limit. Coordinates are all zero: the molblock carries the graph, not a drawing.
 */
export function molblockOfGraph(g: Graph, vocab: MoleculeVocabulary): string {
  const { nodeTypes, edgeTypes } = typesOf(g);
  const atomLines = nodeTypes.map((t, i) => {
    const name = vocab.nodeTypes[t];
    if (name === undefined) throw new GraphFormatError(`node ${i}`, `type ${t} is outside the ${vocab.nodeTypes.length} atom types`);
    const { element, charge } = parseAtomType(name);
    return `M  V30 ${i + 1} ${element} 0 0 0 0${charge === 0 ? '' : ` CHG=${charge}`}`;
  });
  const bondLines = g.edges.map(([u, v], k) => {
    const name = vocab.edgeTypes[edgeTypes[k]];
    const order = BOND_TYPES.indexOf(name) + 1;
    if (order === 0) throw new GraphFormatError(`edge ${k}`, `type ${edgeTypes[k]} (${name ?? 'none'}) is not one of the bond types ${BOND_TYPES.join(', ')}`);
    return `M  V30 ${k + 1} ${order} ${u + 1} ${v + 1}`;
  });
  return [
    '',
    '  dgmg-pipe',
    '',
    '  0  0  0     0  0            999 V3000',
    'M  V30 BEGIN CTAB',
    `M  V30 COUNTS ${g.numNodes} ${g.edges.length} 0 0 0`,
    'M  V30 BEGIN ATOM',
    ...atomLines,
    'M  V30 END ATOM',
    ...(bondLines.length ? ['M  V30 BEGIN BOND', ...bondLines, 'M  V30 END BOND'] : []),
    'M  V30 END CTAB',
    'M  END',
    '',
  ].join('\n');
}

/** The node and edge types of `g`; an absent list means every type is 0 (the Graph convention). */
export function typesOf(g: Graph): { nodeTypes: readonly number[]; edgeTypes: readonly number[] } {
  const nodeTypes = g.nodeTypes ?? new Array<number>(g.numNodes).fill(0);
  const edgeTypes = g.edgeTypes ?? new Array<number>(g.edges.length).fill(0);
  if (nodeTypes.length !== g.numNodes) throw new GraphFormatError('graph', `needs one node type per node (${g.numNodes}), has ${nodeTypes.length}`);
  if (edgeTypes.length !== g.edges.length) throw new GraphFormatError('graph', `needs one edge type per edge (${g.edges.length}), has ${edgeTypes.length}`);
  return { nodeTypes, edgeTypes };
}

/**
 * The Bemis-Murcko framework of a molecule, as RDKit's MurckoDecompose cuts it (docs/design.md,
 * "Molecule measures"): its ring atoms and the atoms on paths between rings, which together are
 * the graph's 2-core (what remains after atoms with at most one neighbour are removed again and
 * again), plus every removed atom joined to a kept one by a double bond (a ring's C=O stays).
 * Types and bond orders are kept; hydrogens being implicit, a cut atom's kept neighbour gains the
 * hydrogens of its default valence, as in RDKit. No ring: the empty graph.
 */
export function murckoFramework(g: Graph, vocab: MoleculeVocabulary): TypedGraph {
  const { nodeTypes, edgeTypes } = typesOf(g);
  const degree = new Array<number>(g.numNodes).fill(0);
  const neighbours: number[][] = Array.from({ length: g.numNodes }, () => []);
  g.edges.forEach(([u, v], k) => {
    degree[u]++;
    degree[v]++;
    neighbours[u].push(k);
    neighbours[v].push(k);
  });
  const kept = new Array<boolean>(g.numNodes).fill(true);
  const leaves = degree.flatMap((d, v) => (d <= 1 ? [v] : []));
  for (let v = leaves.pop(); v !== undefined; v = leaves.pop()) {
    if (!kept[v]) continue;
    kept[v] = false;
    for (const k of neighbours[v]) {
      const w = g.edges[k][0] === v ? g.edges[k][1] : g.edges[k][0];
      if (kept[w] && --degree[w] === 1) leaves.push(w);
    }
  }
  const core = [...kept];
  g.edges.forEach(([u, v], k) => {
    if (vocab.edgeTypes[edgeTypes[k]] !== 'double') return;
    if (core[u] && !core[v]) kept[v] = true;
    if (core[v] && !core[u]) kept[u] = true;
  });
  const index = new Array<number>(g.numNodes).fill(-1);
  const framework = { numNodes: 0, edges: [] as Array<readonly [number, number]>, nodeTypes: [] as number[], edgeTypes: [] as number[] };
  kept.forEach((keep, v) => {
    if (!keep) return;
    index[v] = framework.numNodes++;
    framework.nodeTypes.push(nodeTypes[v]);
  });
  g.edges.forEach(([u, v], k) => {
    if (!kept[u] || !kept[v]) return;
    framework.edges.push([index[u], index[v]]);
    framework.edgeTypes.push(edgeTypes[k]);
  });
  return framework;
}
