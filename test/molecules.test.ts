import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { evaluateMolecules, totalVariation } from '../eval/molecules';
import { moleculeMeasures } from '../pipeline/commands/molecules';
import { GraphFormatError } from '../graphs/graph';
import { BOND_TYPES, atomTypeName, isMoleculeVocabulary, molblockOfGraph, parseAtomType, type MoleculeVocabulary, type TypedGraph } from '../graphs/molecule';
import {
  csvFields,
  csvSmiles,
  graphToSmiles,
  inferVocabulary,
  loadMolecules,
  loadRDKit,
  moleculeProfile,
  moleculesOf,
  readMoleculeFile,
  readSmilesFile,
  smiLine,
  smiLines,
  STRICT,
  writeSmilesFile,
  type RDKit,
} from '../pipeline/molecules';

const FIXTURE = resolve(__dirname, '..', '..', 'test', 'fixtures', 'molecules', 'nci-first-200.smi');
const VOCAB: MoleculeVocabulary = { nodeTypes: ['C', 'N', 'O', 'S', 'Cl', 'Br', 'F', 'N+', 'O-'], edgeTypes: BOND_TYPES };
const dir = mkdtempSync(join(tmpdir(), 'dgmg-molecules-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

/** The one molecule of `smiles`, as a typed graph of VOCAB, with type names for reading. */
function molecule(rd: RDKit, smiles: string): TypedGraph {
  const set = moleculesOf(rd, [{ smiles, where: 'test' }], VOCAB, STRICT);
  return set.graphs[0];
}
const names = (g: TypedGraph): { atoms: string[]; bonds: string[] } => ({ atoms: g.nodeTypes.map((k) => VOCAB.nodeTypes[k]), bonds: g.edgeTypes.map((k) => VOCAB.edgeTypes[k]) });
/** Per atom, the bond orders around it, sorted. */
const bondOrdersAt = (g: TypedGraph): number[][] => {
  const at: number[][] = Array.from({ length: g.numNodes }, () => []);
  g.edges.forEach(([u, v], k) => {
    at[u].push(g.edgeTypes[k] + 1);
    at[v].push(g.edgeTypes[k] + 1);
  });
  return at.map((x) => x.sort());
};

t.test('atom type names carry element and charge, and parse back', async (t) => {
  t.equal(atomTypeName('C', 0), 'C');
  t.equal(atomTypeName('N', 1), 'N+');
  t.equal(atomTypeName('O', -1), 'O-');
  t.equal(atomTypeName('Fe', 2), 'Fe2+');
  for (const name of ['C', 'Cl', 'N+', 'O-', 'Fe2+', 'S2-']) t.equal(atomTypeName(parseAtomType(name).element, parseAtomType(name).charge), name);
  for (const bad of ['X', 'c', 'C1+', 'N0+', 'Cl++', '']) t.throws(() => parseAtomType(bad), /is not an atom type/, bad);
});

t.test('bonds are kekulized: benzene, pyridine, nitro groups, charged atoms', async (t) => {
  const rd = await loadRDKit();
  const benzene = molecule(rd, 'c1ccccc1');
  t.same(names(benzene).atoms, ['C', 'C', 'C', 'C', 'C', 'C']);
  t.same(names(benzene).bonds.slice().sort(), ['double', 'double', 'double', 'single', 'single', 'single']);
  t.same(bondOrdersAt(benzene), Array(6).fill([1, 2]), 'every ring atom has one double bond');
  const pyridine = molecule(rd, 'c1ccncc1');
  t.same(bondOrdersAt(pyridine)[names(pyridine).atoms.indexOf('N')], [1, 2]);
  const nitro = molecule(rd, 'c1ccccc1[N+](=O)[O-]');
  const n = names(nitro).atoms.indexOf('N+');
  t.ok(n >= 0);
  t.same(bondOrdersAt(nitro)[n], [1, 1, 2], 'N+ bonds: the ring, O- (single), O (double)');
  const oMinus = names(nitro).atoms.indexOf('O-');
  t.same(bondOrdersAt(nitro)[oMinus], [1]);
  t.same(names(molecule(rd, 'C[NH3+]')).atoms.sort(), ['C', 'N+'], 'hydrogens are implicit, the charge stays');
  t.same(names(molecule(rd, 'CC#N')).bonds.sort(), ['single', 'triple']);
  t.equal(graphToSmiles(rd, molecule(rd, '[NH4+]'), VOCAB), '[NH4+]', 'a lone N+ gets its four hydrogens back');
});

t.test('canonical atom order does not depend on how the SMILES is written', async (t) => {
  const rd = await loadRDKit();
  const writings = [
    ['OC(=O)c1ccccc1', 'c1ccc(cc1)C(O)=O', 'C1=CC=CC(=C1)C(=O)O', 'O=C(O)C1=CC=CC=C1'],
    ['Cc1ccncc1[N+](=O)[O-]', '[O-][N+](=O)c1cnccc1C', 'C1=NC=C([N+]([O-])=O)C(C)=C1'],
  ];
  for (const group of writings) {
    const [first, ...rest] = group.map((s) => molecule(rd, s));
    for (const g of rest) t.same(g, first, group.join(' = '));
  }
  t.not(JSON.stringify(molecule(rd, 'OCC')), JSON.stringify(molecule(rd, 'COC')), 'different molecules, different graphs');
});

t.test('SMILES -> graph -> SMILES gives the same canonical SMILES on the fixture', async (t) => {
  const rd = await loadRDKit();
  const set = readMoleculeFile(rd, FIXTURE, VOCAB, { maxAtoms: null, skipOutsideTypes: true, skipUnparsable: false });
  t.same(set.counts, { read: 200, kept: 186, unparsable: 0, tooLarge: 0, outsideTypes: 14, notRepresentable: 0 });
  const entries = readSmilesFile(FIXTURE);
  let k = 0;
  for (const e of entries) {
    const mol = rd.module.get_mol(e.smiles);
    if (!mol) throw new Error(`fixture ${e.where} does not parse`);
    const direct = mol.get_smiles(JSON.stringify({ doIsomericSmiles: false }));
    mol.delete();
    if (k < set.smiles.length && set.smiles[k] === direct) {
      t.equal(graphToSmiles(rd, set.graphs[k], VOCAB), direct, e.where);
      k++;
    }
  }
  t.equal(k, 186, 'every kept molecule is the canonical SMILES of its input line, in file order');
});

t.test('size and type filters count what they skip; radicals are not representable', async (t) => {
  const rd = await loadRDKit();
  const entries = smiLines('CCO\nC1CC\nCCCCCCCCCC\nC[Se]C\nC[CH2]\nc1ccccc1\n', 'x.smi');
  const set = moleculesOf(rd, entries, VOCAB, { maxAtoms: 6, skipOutsideTypes: true, skipUnparsable: true });
  t.same(set.counts, { read: 6, kept: 2, unparsable: 1, tooLarge: 1, outsideTypes: 1, notRepresentable: 1 });
  t.same(set.smiles, ['CCO', 'c1ccccc1']);
});

t.test('an unparsable SMILES names file:line and RDKit\'s reason', async (t) => {
  const rd = await loadRDKit();
  const f = file('bad.smi', 'CCO ethanol\n\nC1CC broken\n');
  t.throws(() => readMoleculeFile(rd, f, VOCAB, STRICT), { name: 'GraphFormatError', message: `${f}:3: RDKit cannot parse C1CC: SMILES Parse Error: unclosed ring for input: 'C1CC'` });
  const g = file('valence.smi', 'C(C)(C)(C)(C)C\n');
  t.throws(() => readMoleculeFile(rd, g, VOCAB, STRICT), { message: `${g}:1: RDKit cannot parse C(C)(C)(C)(C)C: Explicit valence for atom # 0 C, 5, is greater than permitted` });
});

t.test('an element outside the types names it, the atom and the line', async (t) => {
  const rd = await loadRDKit();
  const f = file('se.smi', 'CCO\nC[Se]C selenide\n');
  t.throws(() => readMoleculeFile(rd, f, VOCAB, STRICT), {
    name: 'GraphFormatError',
    message: new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: C\\[Se\\]C: atom 1 \\(0-based, in the order the SMILES writes its atoms\\) has type Se, which is not among the atom types \\[C, N, O, S, Cl, Br, F, N\\+, O-\\]`),
  });
  const charged = file('charged.smi', 'CC(=O)[O-]\nC[NH3+]\n');
  const co: MoleculeVocabulary = { nodeTypes: ['C', 'O', 'O-'], edgeTypes: BOND_TYPES };
  t.throws(() => readMoleculeFile(rd, charged, co, STRICT), { message: /charged\.smi:2: C\[NH3\+\]: atom 1 .* has type N\+/ });
  t.throws(() => readMoleculeFile(rd, file('triple.smi', 'CC#N\n'), { nodeTypes: ['C', 'N'], edgeTypes: ['single', 'double'] }, STRICT), { message: /triple\.smi:1: CC#N: the bond between atoms 1 and 2 \(0-based, as written\) is triple/ });
  t.throws(() => readMoleculeFile(rd, charged, { nodeTypes: ['C', 'X'], edgeTypes: BOND_TYPES }, STRICT), /"X" is not an atom type/);
});

t.test('.smi: names, comments, a header and blank lines', async (t) => {
  t.same(smiLines('SMILES Name\n# a comment\nCCO ethanol\n\n  c1ccccc1\tbenzene  \r\nO\n', 'f.smi'), [
    { smiles: 'CCO', where: 'f.smi:3' },
    { smiles: 'c1ccccc1', where: 'f.smi:5' },
    { smiles: 'O', where: 'f.smi:6' },
  ]);
  t.throws(() => readSmilesFile(file('x.sdf', '')), /unknown molecule file type "\.sdf"/);
});

t.test('.csv: the SMILES column by header, quoted fields, no header', async (t) => {
  t.same(csvFields('a,"b, c","say ""hi""",,d', 'w'), ['a', 'b, c', 'say "hi"', '', 'd']);
  t.throws(() => csvFields('a,"b', 'f.csv:4'), { message: 'f.csv:4: a quoted field opened at column 3 is not closed' });
  t.throws(() => csvFields('"a"b', 'f.csv:1'), /unexpected "b" after the quoted field/);
  t.same(csvSmiles('id,name,Smiles\n1,"ethanol, pure",CCO\n\n2,"benzene","c1ccccc1"\n', 'f.csv'), [
    { smiles: 'CCO', where: 'f.csv:2' },
    { smiles: 'c1ccccc1', where: 'f.csv:4' },
  ]);
  t.same(csvSmiles('"N(NC(=O)C1CCC1)c1ccccc1","WEHI-1"\n"CCO","WEHI-2"\n', 'w.csv'), [
    { smiles: 'N(NC(=O)C1CCC1)c1ccccc1', where: 'w.csv:1' },
    { smiles: 'CCO', where: 'w.csv:2' },
  ], 'no header: the first column');
  t.throws(() => csvSmiles('name,smiles\nx,\n', 'e.csv'), { message: 'e.csv:2: no SMILES in column 2' });
  const rd = await loadRDKit();
  const set = readMoleculeFile(rd, file('m.csv', 'name,SMILES\n"acetic acid, glacial",CC(=O)O\nnitromethane,C[N+](=O)[O-]\n'), VOCAB, STRICT);
  t.same(set.smiles, ['CC(=O)O', 'C[N+](=O)[O-]']);
});

t.test('vocabulary inference: types by frequency', async (t) => {
  const rd = await loadRDKit();
  const v = inferVocabulary(rd, smiLines('CCO\nCC=O\nC[N+](=O)[O-]\nC1CC\n', 'f.smi'), null);
  t.same(v, { nodeTypes: ['C', 'O', 'N+', 'O-'], edgeTypes: ['single', 'double'] });
  t.same(inferVocabulary(rd, smiLines('CCO\nC[N+](=O)[O-]\n', 'f.smi'), 3).nodeTypes, ['C', 'O'], 'size filter applies');
  const f = file('infer.smi', 'CCO\nC[N+](=O)[O-]\nCC#N\n');
  const inferred = loadMolecules(rd, f, { nodeTypes: [], edgeTypes: [] }, STRICT);
  t.same(inferred.vocab, { nodeTypes: ['C', 'O', 'N', 'N+', 'O-'], edgeTypes: ['single', 'double', 'triple'] });
  t.equal(inferred.counts.kept, 3);
  t.same(loadMolecules(rd, f, VOCAB, STRICT).vocab, VOCAB, 'given types are kept as given');
});

t.test('typed graphs write back: invalid valences give null, bad types are refused', async (t) => {
  const rd = await loadRDKit();
  const co: MoleculeVocabulary = { nodeTypes: ['C', 'O'], edgeTypes: BOND_TYPES };
  t.equal(graphToSmiles(rd, { numNodes: 3, edges: [[0, 1], [1, 2]], nodeTypes: [0, 1, 0], edgeTypes: [0, 0] }, co), 'COC');
  t.equal(graphToSmiles(rd, { numNodes: 3, edges: [[0, 1], [1, 2]], nodeTypes: [0, 1, 0], edgeTypes: [1, 1] }, co), null, 'O with two double bonds');
  t.equal(graphToSmiles(rd, { numNodes: 0, edges: [], nodeTypes: [], edgeTypes: [] }, co), null, 'no atoms, no molecule');
  t.equal(graphToSmiles(rd, { numNodes: 2, edges: [], nodeTypes: [0, 1], edgeTypes: [] }, co), 'C.O', 'fragments are a molecule');
  t.throws(() => molblockOfGraph({ numNodes: 1, edges: [], nodeTypes: [2], edgeTypes: [] }, co), /node 0: type 2 is outside the 2 atom types/);
  t.equal(graphToSmiles(rd, { numNodes: 2, edges: [[0, 1]] }, co), 'CC', 'absent type lists mean type 0 (C, single)');
  t.throws(() => molblockOfGraph({ numNodes: 2, edges: [[0, 1]], nodeTypes: [0] }, co), /needs one node type per node \(2\), has 1/);
});

t.test('molecule measures on a hand-made set', async (t) => {
  const rd = await loadRDKit();
  const co: MoleculeVocabulary = { nodeTypes: ['C', 'O'], edgeTypes: BOND_TYPES };
  const chain = (types: number[], bonds: number[]): TypedGraph => ({ numNodes: types.length, edges: bonds.map((_, k) => [k, k + 1] as const), nodeTypes: types, edgeTypes: bonds });
  const ethanol = chain([0, 0, 1], [0, 0]);
  const ethanolOtherWay = chain([1, 0, 0], [0, 0]);
  const invalid = chain([0, 1, 0], [1, 1]);
  const propane = chain([0, 0, 0], [0, 0]);
  const methanol = chain([0, 1], [0]);
  const withSmiles = (g: TypedGraph) => ({ graph: g, profile: moleculeProfile(rd, g, co) });
  const r = evaluateMolecules([ethanol, ethanolOtherWay, invalid, propane].map(withSmiles), [ethanol, methanol].map(withSmiles), co);
  t.same(
    { samples: r.samples, valid: r.valid, unique: r.unique, novel: r.novel, validity: r.validity, uniqueness: r.uniqueness, novelty: r.novelty },
    { samples: 4, valid: 3, unique: 2, novel: 1, validity: 3 / 4, uniqueness: 2 / 3, novelty: 1 / 2 },
    'valid: both ethanols and propane; unique: ethanol, propane; novel: propane',
  );
  t.same(r.atomTypes.samples, { C: 9, O: 3 });
  t.same(r.atomTypes.data, { C: 3, O: 2 });
  t.ok(Math.abs((r.atomTypes.totalVariation as number) - 0.15) < 1e-12, '|9/12 - 3/5| = 0.15');
  t.same(r.bondTypes.samples, { single: 6, double: 2 });
  t.equal(r.bondTypes.totalVariation, 0.25);
  t.same(r.sizeHistogram, { samples: [0, 0, 0, 4], data: [0, 0, 1, 1] });
  const none = evaluateMolecules([withSmiles(invalid)], [], co);
  t.same([none.validity, none.uniqueness, none.novelty, none.atomTypes.totalVariation], [0, null, null, null]);
  t.equal(totalVariation({ a: 1 }, { b: 5 }), 1);
});

/** What the script `code` posts first, run in a fresh worker thread (its own RDKit, not yet loaded) with `workerData`. */
function inFreshThread(code: string, workerData: unknown = null): Promise<unknown> {
  return new Promise((ok, fail) => {
    const w = new Worker(code, { eval: true, workerData });
    w.once('message', (x) => {
      ok(x);
      void w.terminate();
    });
    w.once('error', fail);
  });
}

t.test('RDKit works inside a worker thread', async (t) => {
  const molecules = resolve(__dirname, '..', 'pipeline', 'molecules.js');
  const result = await inFreshThread(`
    const { parentPort } = require('node:worker_threads');
    const m = require(${JSON.stringify(molecules)});
    m.loadRDKit().then((rd) => {
      const set = m.moleculesOf(rd, [{ smiles: 'C1=CC=CC=C1O', where: 'w' }], { nodeTypes: ['C', 'O'], edgeTypes: ['single', 'double', 'triple'] }, m.STRICT);
      parentPort.postMessage({ smiles: set.smiles, back: m.graphToSmiles(rd, set.graphs[0], { nodeTypes: ['C', 'O'], edgeTypes: ['single', 'double', 'triple'] }) });
    });`);
  t.same(result, { smiles: ['Oc1ccccc1'], back: 'Oc1ccccc1' });
});

t.test('loadDataset reads a .smi file in a fresh thread that never called loadRDKit', async (t) => {
  const dataset = resolve(__dirname, '..', 'pipeline', 'dataset.js');
  const config = resolve(__dirname, '..', 'pipeline', 'config.js');
  const json = { data: { file: FIXTURE, maxAtoms: 23, skipInvalid: true, testSize: 20 }, model: { nodeTypes: VOCAB.nodeTypes, edgeTypes: VOCAB.edgeTypes }, sample: { vMax: 23 } };
  const result = await inFreshThread(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const { loadDataset } = require(${JSON.stringify(dataset)});
    const { configFromJson } = require(${JSON.stringify(config)});
    Promise.resolve()
      .then(() => loadDataset(configFromJson(workerData, 'nci.json'), 0))
      .then((d) => parentPort.postMessage({ train: d.train.length, test: d.test.length, molecules: d.molecules }), (e) => parentPort.postMessage({ error: e.message }));`,
    json,
  );
  t.same(result, { train: 152, test: 20, molecules: { read: 200, kept: 172, unparsable: 0, tooLarge: 16, outsideTypes: 12, notRepresentable: 0 } }, 'the 172 kept molecules split 152 / 20, as the CLI reads them');
});

t.test('GraphFormatError is what a bad file throws', async (t) => {
  t.throws(() => readSmilesFile(join(dir, 'missing.smi')), GraphFormatError);
});

t.test('sampled graphs as a .smi file: one line per sample, invalid ones as comments, written whole or not at all', async (t) => {
  const rd = await loadRDKit();
  t.equal(await loadRDKit(), rd, 'the loaded module is shared in the thread');
  const co: MoleculeVocabulary = { nodeTypes: ['C', 'O'], edgeTypes: BOND_TYPES };
  const ethanol: TypedGraph = { numNodes: 3, edges: [[0, 1], [1, 2]], nodeTypes: [0, 0, 1], edgeTypes: [0, 0] };
  const invalid: TypedGraph = { numNodes: 3, edges: [[0, 1], [1, 2]], nodeTypes: [0, 1, 0], edgeTypes: [1, 1] };
  t.equal(smiLine(rd, invalid, co, 6), '# sample 7: not a molecule (3 atoms, 2 bonds; RDKit does not sanitize it)');
  const out = join(dir, 'samples.smi');
  const { result, invalid: bad } = await writeSmilesFile(out, rd, async (write) => {
    write([ethanol, invalid], co);
    write([ethanol], co);
    return 'done';
  });
  t.same([result, bad], ['done', 1]);
  t.equal(readFileSync(out, 'utf8'), 'CCO\n# sample 2: not a molecule (3 atoms, 2 bonds; RDKit does not sanitize it)\nCCO\n');
  t.same(smiLines(readFileSync(out, 'utf8'), out).map((e) => e.smiles), ['CCO', 'CCO'], 'the file reads back as SMILES, comments skipped');
  const failed = join(dir, 'failed.smi');
  await t.rejects(writeSmilesFile(failed, rd, async (write) => {
    write([ethanol], co);
    throw new Error('chunk failed');
  }), /chunk failed/);
  t.notOk(existsSync(failed), 'no part of a file');
  await t.rejects(writeSmilesFile(failed, rd, async (write) => write([{ numNodes: 3, edges: [[0, 1], [1, 2], [2, 0]] }], { nodeTypes: [], edgeTypes: [] })), {
    message: `${failed}: SMILES need a model of molecules (atom types and single/double/triple bonds), not node types [] and edge types []`,
  });
  t.notOk(existsSync(failed), 'an untyped model writes no SMILES file');
  const r = await moleculeMeasures([ethanol, invalid], [ethanol], co);
  t.same([r.valid, r.unique, r.novel], [1, 1, 0]);
});

t.test('a molecule vocabulary: atom types and bond types only', async (t) => {
  t.ok(isMoleculeVocabulary(VOCAB));
  t.notOk(isMoleculeVocabulary({ nodeTypes: ['A', 'B'], edgeTypes: ['x'] }));
  t.notOk(isMoleculeVocabulary({ nodeTypes: ['C'], edgeTypes: ['single', 'aromatic'] }));
  t.notOk(isMoleculeVocabulary({ nodeTypes: [], edgeTypes: [] }), 'untyped is not molecules');
});
