import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { evaluateMolecules, meanNearestTanimoto, meanPairwiseTanimoto, tanimoto, wasserstein1, type MoleculeProfile, type MoleculeProperties } from '../eval/molecules';
import { BOND_TYPES, murckoFramework, type MoleculeVocabulary, type TypedGraph } from '../graphs/molecule';
import { graphToSmiles, inferVocabulary, loadRDKit, moleculeProfile, moleculesOf, parseMolecule, readSmilesFile, type RDKit } from '../pipeline/molecules';

/**
 * The molecule measures against values computed independently: RDKit's Python API on the NCI
 * fixture (test/fixtures/molecules/rdkit_measures.py wrote nci-first-200.rdkit.json), and cases
 * worked by hand.
 */

const FIXTURES = resolve(__dirname, '..', '..', 'test', 'fixtures', 'molecules');
interface Expected {
  molecules: Array<{ smiles: string; scaffold: string | null; ringSizes: number[]; properties: MoleculeProperties; onBits: number[] }>;
  measures: {
    internalDiversity: number;
    snn: number;
    scaffolds: { samples: number; data: number; shared: number; novel: number; dataCovered: number; acyclic: { samples: number; data: number } };
    ringSizesTotalVariation: number;
    threeMemberedRing: { samples: number; data: number };
    wasserstein: MoleculeProperties;
  };
}
const expected = JSON.parse(readFileSync(resolve(FIXTURES, 'nci-first-200.rdkit.json'), 'utf8')) as Expected;

/** A SMILES written by another RDKit version, in our RDKit's canonical form. */
function canonical(rd: RDKit, smiles: string): string {
  const parsed = parseMolecule(rd, smiles);
  if ('error' in parsed) throw new Error(`${smiles}: ${parsed.error}`);
  return parsed.smiles;
}

const close = (a: number | null, b: number, tol = 1e-9): boolean => a !== null && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

t.test('each molecule of the NCI fixture: descriptors, Morgan bits, rings and scaffold as RDKit Python computes them', async (t) => {
  const rd = await loadRDKit();
  const entries = readSmilesFile(resolve(FIXTURES, 'nci-first-200.smi'));
  const vocab = inferVocabulary(rd, entries, null);
  const set = moleculesOf(rd, entries, vocab, { maxAtoms: null, skipOutsideTypes: false, skipUnparsable: false });
  t.equal(set.graphs.length, expected.molecules.length);
  let scaffolds = 0;
  set.graphs.forEach((g, i) => {
    const want = expected.molecules[i];
    const got = moleculeProfile(rd, g, vocab) as MoleculeProfile;
    const where = `line ${i + 1} (${want.smiles})`;
    if (got.smiles !== canonical(rd, want.smiles)) t.fail(`${where}: SMILES ${got.smiles}`);
    if (got.scaffold !== (want.scaffold === null ? null : canonical(rd, want.scaffold))) t.fail(`${where}: scaffold ${got.scaffold}, RDKit's MurckoScaffold ${want.scaffold}`);
    if (got.scaffold !== null) scaffolds++;
    if ([...got.ringSizes].sort((a, b) => a - b).join() !== want.ringSizes.join()) t.fail(`${where}: ring sizes ${got.ringSizes.join()}`);
    const bits: number[] = [];
    for (let b = 0; b < 1024; b++) if (got.fingerprint[b >>> 5] & (1 << (b & 31))) bits.push(b);
    if (bits.join() !== want.onBits.join()) t.fail(`${where}: Morgan bits differ`);
    for (const [k, v] of Object.entries(want.properties)) if (!close(got.properties[k as keyof MoleculeProperties], v, 1e-6)) t.fail(`${where}: ${k} ${got.properties[k as keyof MoleculeProperties]}, RDKit Python ${v}`);
  });
  t.ok(scaffolds > 150, `${scaffolds} of 200 have a framework; every one matched`);
});

t.test('the set measures of half the fixture against the other half, as computed from MOSES\'s definitions in Python', async (t) => {
  const rd = await loadRDKit();
  const entries = readSmilesFile(resolve(FIXTURES, 'nci-first-200.smi'));
  const vocab = inferVocabulary(rd, entries, null);
  const set = moleculesOf(rd, entries, vocab, { maxAtoms: null, skipOutsideTypes: false, skipUnparsable: false });
  const profiled = set.graphs.map((graph) => ({ graph, profile: moleculeProfile(rd, graph, vocab) }));
  const r = evaluateMolecules(profiled.filter((_, i) => i % 2 === 0), profiled.filter((_, i) => i % 2 === 1), vocab);
  const m = expected.measures;
  t.ok(close(r.internalDiversity, m.internalDiversity), `internal diversity ${r.internalDiversity} = ${m.internalDiversity}`);
  t.ok(close(r.snn, m.snn), `SNN ${r.snn} = ${m.snn}`);
  t.same(r.scaffolds, m.scaffolds);
  t.ok(close(r.ringSizes.totalVariation, m.ringSizesTotalVariation), `ring-size TV ${r.ringSizes.totalVariation} = ${m.ringSizesTotalVariation}`);
  t.same(r.threeMemberedRing, m.threeMemberedRing);
  for (const [k, v] of Object.entries(m.wasserstein)) {
    const got = r.properties[k as keyof MoleculeProperties].wasserstein;
    t.ok(close(got, v, 1e-6), `W1 of ${k}: ${got} = scipy's ${v}`);
  }
});

t.test('hand-worked cases: Tanimoto, Wasserstein-1, internal diversity, SNN', async (t) => {
  const fp = (...bits: number[]): Uint32Array => {
    const w = new Uint32Array(32);
    for (const b of bits) w[b >>> 5] |= 1 << (b & 31);
    return w;
  };
  t.equal(tanimoto(fp(1, 2, 3), fp(2, 3, 4, 40)), 2 / 5);
  t.equal(tanimoto(fp(), fp()), 1, 'two empty fingerprints count as equal, as MOSES');
  t.equal(tanimoto(fp(31, 1023), fp(31, 1023)), 1, 'the top bit of a word and of the vector count');
  // pairs (a,a) (b,b) = 1, (a,b) = (b,a) = 1/3: mean over 4 ordered pairs = (2 + 2/3) / 4
  t.equal(meanPairwiseTanimoto([fp(1, 2), fp(2, 3)]), (2 + 2 / 3) / 4);
  t.equal(meanNearestTanimoto([fp(1, 2), fp(7)], [fp(1, 2, 3), fp(7, 8), fp(9)]), (2 / 3 + 1 / 2) / 2);
  t.equal(wasserstein1([0, 1, 3], [5, 6, 8]), 5, 'a shift by 5 moves all mass 5');
  t.equal(wasserstein1([0, 2], [1]), 1);
  t.equal(wasserstein1([1, 1, 2], [1, 2, 2]), 1 / 3);
  t.equal(wasserstein1([], [1]), null);
});

t.test('Bemis-Murcko frameworks cut on the graph, as RDKit\'s MurckoScaffold cuts them', async (t) => {
  const rd = await loadRDKit();
  const vocab: MoleculeVocabulary = { nodeTypes: ['C', 'N', 'O', 'S', 'N+', 'O-'], edgeTypes: BOND_TYPES };
  // RDKit Python 2022.09: Chem.MolToSmiles(MurckoScaffold.GetScaffoldForMol(Chem.MolFromSmiles(s)))
  const cases: Array<[string, string]> = [
    ['O=C1CCCCC1', 'O=C1CCCCC1'],
    ['CC(=O)c1ccccc1', 'c1ccccc1'],
    ['c1ccccc1CCC1CC1', 'c1ccc(CCC2CC2)cc1'],
    ['O=C(Nc1ccccc1)C1CC1', 'O=C(Nc1ccccc1)C1CC1'],
    ['CCO', ''],
    ['C=C1CCCCC1', 'C=C1CCCCC1'],
    ['O=S(=O)(c1ccccc1)C1CCCC1', 'O=S(=O)(c1ccccc1)C1CCCC1'],
    ['O=[N+]([O-])c1ccccc1', 'c1ccccc1'],
    ['CC(C)(c1ccccc1)c1ccccc1', 'c1ccc(Cc2ccccc2)cc1'],
    ['c1ccccc1CC.C1CC1C', 'C1CC1.c1ccccc1'],
    ['C[n+]1ccccc1', 'c1cc[nH+]cc1'],
    ['CC(=O)N1CCC(CC1)c1ccccc1', 'c1ccc(C2CCNCC2)cc1'],
    ['C1CC1C(=O)C(=O)C1CC1', 'O=C(C(=O)C1CC1)C1CC1'],
  ];
  for (const [input, want] of cases) {
    const set = moleculesOf(rd, [{ smiles: input, where: 'case' }], vocab, { maxAtoms: null, skipOutsideTypes: false, skipUnparsable: false });
    const framework = murckoFramework(set.graphs[0], vocab);
    const got = framework.numNodes === 0 ? '' : graphToSmiles(rd, framework, vocab);
    t.equal(got, want === '' ? '' : canonical(rd, want), `${input} -> ${want || 'no framework'}`);
  }
});

t.test('three-membered rings and ring sizes counted per molecule and per ring', async (t) => {
  const rd = await loadRDKit();
  const vocab: MoleculeVocabulary = { nodeTypes: ['C', 'O'], edgeTypes: BOND_TYPES };
  const read = (...smiles: string[]): TypedGraph[] => moleculesOf(rd, smiles.map((s) => ({ smiles: s, where: 'case' })), vocab, { maxAtoms: null, skipOutsideTypes: false, skipUnparsable: false }).graphs;
  const profiled = (gs: TypedGraph[]) => gs.map((graph) => ({ graph, profile: moleculeProfile(rd, graph, vocab) }));
  const r = evaluateMolecules(profiled(read('C1CC1C1CCCCC1', 'CCO', 'C1CO1')), profiled(read('C1CCCCC1', 'CCCC')), vocab);
  t.same(r.ringSizes.samples, { 3: 2, 6: 1 });
  t.same(r.ringSizes.data, { 6: 1 });
  t.ok(close(r.ringSizes.totalVariation, 2 / 3), 'rings 3, 3, 6 against 6: |2/3 - 0| + |1/3 - 1| halved');
  t.same(r.threeMemberedRing, { samples: 2 / 3, data: 0 });
  t.same(r.scaffolds, { samples: 2, data: 1, shared: 0, novel: 1, dataCovered: 0, acyclic: { samples: 1 / 3, data: 1 / 2 } });
  t.same(r.properties.rings, { samplesMean: 1, dataMean: 0.5, wasserstein: 0.5 });
  t.same(r.properties.heavyAtoms.wasserstein, wasserstein1([9, 3, 3], [6, 4]));
  t.same(r.severalFragments, { samples: 0, data: 0 });
});

t.test('molecules of several fragments counted among the valid samples and the data', async (t) => {
  const rd = await loadRDKit();
  const vocab: MoleculeVocabulary = { nodeTypes: ['C', 'O'], edgeTypes: BOND_TYPES };
  const profiled = (...smiles: string[]) =>
    moleculesOf(rd, smiles.map((s) => ({ smiles: s, where: 'case' })), vocab, { maxAtoms: null, skipOutsideTypes: false, skipUnparsable: false }).graphs.map((graph) => ({ graph, profile: moleculeProfile(rd, graph, vocab) }));
  const invalid = { graph: { numNodes: 2, edges: [[0, 1]] as Array<[number, number]>, nodeTypes: [1, 1], edgeTypes: [2] }, profile: null };
  const r = evaluateMolecules([...profiled('CCO.C', 'CCO', 'C1CC1.O.O', 'CC'), invalid], profiled('CCO', 'CC.O', 'C', 'OCCO'), vocab);
  t.equal(r.validity, 4 / 5, 'the sample without a molecule leaves the denominator');
  t.same(r.severalFragments, { samples: 2 / 4, data: 1 / 4 }, 'two of the four valid samples, one of the four data molecules');
});
