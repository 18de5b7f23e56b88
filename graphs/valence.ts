import { GraphFormatError, type Graph } from './graph';
import { BOND_TYPES, atomTypeName, isMoleculeVocabulary, parseAtomType, typesOf, type MoleculeVocabulary } from './molecule';

/**
 * Valences of atoms (docs/design.md, 'Valence constraint'): how many bonds, counted by bond order
 * with hydrogens implicit, an atom of each type may have before RDKit refuses the molecule.
 */

/** Charges -2..+2 of the elements below, in that order. */
const CHARGES = [-2, -1, 0, 1, 2] as const;

/**
 * The most bond orders an atom of each element and charge (-2 to +2) may carry, as RDKit's
 * default valences allow them: an atom with fewer bonds gets implicit hydrogens up to its next
 * allowed valence, so every count up to this one sanitizes and the next does not. RDKit computes
 * them from its periodic table's valence lists and the charge (mostly those of the element whose
 * atomic number is Z minus the charge: N+ like C, O- like F, with exceptions for the hypervalent
 * S, Se, Te, P, As and the halogens), so the table was read off RDKit itself, MinimalLib
 * 2026.09.1, one atom with 0 to 8 single bonds to carbons a probe; a test holds every entry to the
 * RDKit this package runs. The ions that RDKit lets take any number of bonds (F2-, Cl2-, Br2-,
 * B2+, Si2+: the alkali and alkaline earth valences of Z minus the charge), metals and other
 * elements are left out: a model with such an atom type cannot use the constraint.
 */
const MAX_VALENCE: Readonly<Record<string, readonly [number, number, number, number, number]>> = {
  B: [3, 4, 3, 2, -1],
  C: [2, 3, 4, 3, 2],
  N: [1, 2, 3, 4, 3],
  O: [0, 1, 2, 3, 4],
  F: [-1, 0, 1, 2, 3],
  Si: [6, 5, 4, 3, -1],
  P: [3, 6, 5, 4, 3],
  S: [4, 5, 6, 5, 4],
  Cl: [-1, 0, 1, 6, 5],
  As: [3, 6, 5, 4, 3],
  Se: [4, 5, 6, 5, 4],
  Br: [-1, 0, 1, 6, 5],
  Te: [6, 5, 6, 5, 4],
  I: [1, 6, 5, 6, 5],
};

/** The most bond orders an atom of type `name` (e.g. "N+") may carry; null when the table has no entry for it. */
export function maxValence(name: string): number | null {
  const { element, charge } = parseAtomType(name);
  const k = CHARGES.indexOf(charge as (typeof CHARGES)[number]);
  const v = k < 0 ? undefined : MAX_VALENCE[element]?.[k];
  return v === undefined || v < 0 ? null : v;
}

/** Every atom type the table covers, e.g. "C", "N+", "S2-". */
export function valenceTypes(): string[] {
  return Object.keys(MAX_VALENCE).flatMap((element) => CHARGES.map((c) => atomTypeName(element, c)).filter((name) => maxValence(name) !== null));
}

/** A molecule model's valences, by type index: the cap of every node type and the order of every edge type. */
export interface ValenceRule {
  readonly cap: Int32Array;
  readonly order: Int32Array;
}

/**
 * The valence rule of a vocabulary of atom and bond types; throws, naming the atom type, when
 * the table does not know one of them (or the names are not atom and bond types).
 */
export function valenceRule(vocab: MoleculeVocabulary): ValenceRule {
  if (!isMoleculeVocabulary(vocab)) throw new Error(`the valence constraint needs atom types and bond types (${BOND_TYPES.join(', ')}), not node types [${vocab.nodeTypes.join(', ')}] and edge types [${vocab.edgeTypes.join(', ')}]`);
  const cap = Int32Array.from(vocab.nodeTypes, (name) => {
    const v = maxValence(name);
    if (v === null) throw new Error(`atom type ${name} has no valence in the table of RDKit's default valences (${Object.keys(MAX_VALENCE).join(' ')}, charges -2 to +2): train without the valence constraint (--no-valence-mask, or model.valenceMask false)`);
    return v;
  });
  return { cap, order: Int32Array.from(vocab.edgeTypes, (name) => BOND_TYPES.indexOf(name) + 1) };
}

/** The first atom of `g` whose bonds' orders add up to more than its type allows, or null. */
export function valenceExcess(g: Graph, rule: ValenceRule): { atom: number; bonds: number; cap: number } | null {
  const { nodeTypes, edgeTypes } = typesOf(g);
  const bonds = new Int32Array(g.numNodes);
  g.edges.forEach(([u, v], k) => {
    bonds[u] += rule.order[edgeTypes[k]];
    bonds[v] += rule.order[edgeTypes[k]];
  });
  const atom = bonds.findIndex((b, i) => b > rule.cap[nodeTypes[i]]);
  return atom < 0 ? null : { atom, bonds: bonds[atom], cap: rule.cap[nodeTypes[atom]] };
}

/** Refuses a graph with an atom over its valence, naming `where`, the atom (0-based) and its type. */
export function assertWithinValence(g: Graph, rule: ValenceRule, vocab: MoleculeVocabulary, where: string): void {
  const x = valenceExcess(g, rule);
  if (x) {
    const type = vocab.nodeTypes[typesOf(g).nodeTypes[x.atom]];
    throw new GraphFormatError(where, `atom ${x.atom} (0-based, ${type}) has bonds of total order ${x.bonds}, more than the ${x.cap} RDKit's default valences allow ${type}: fix the graph, or train without the valence constraint (--no-valence-mask)`);
  }
}
