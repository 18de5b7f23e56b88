import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cliIn } from './cli-run';

/** Molecules through the product: a .smi file trains a typed model whose samples come back as SMILES, measured by RDKit. */

const FIXTURE = resolve(__dirname, '..', '..', 'test', 'fixtures', 'molecules', 'nci-first-200.smi');
const dir = mkdtempSync(join(tmpdir(), 'dgmg-cli-molecules-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const cli = cliIn(dir);
const config = (name: string, json: object): string => {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify(json));
  return f;
};
const model = { nodeSize: 8, propRounds: 1 };
const train = { epochs: 1, batchSize: 20 };

t.test('train on a .smi file with the size and type filter, sample SMILES, eval, draw, animate', async (t) => {
  const c = config('mol.json', {
    data: { file: FIXTURE, maxAtoms: 23, skipInvalid: true, testSize: 20 },
    model: { ...model, nodeTypes: ['C', 'N', 'O', 'S', 'Cl', 'Br', 'F', 'N+', 'O-'], edgeTypes: ['single', 'double', 'triple'] },
    train,
    sample: { vMax: 23 },
  });
  const tr = cli('train', '--config', c, '--out', 'run', '--workers', '1', '--quiet', '--json');
  t.equal(tr.status, 0, tr.stderr);
  t.same(JSON.parse(tr.stdout).molecules, { read: 200, kept: 172, unparsable: 0, tooLarge: 16, outsideTypes: 12, notRepresentable: 0 });
  const ckpt = join(dir, 'run', 'checkpoint.json');
  const s = cli('sample', '--model', ckpt, '--n', '30', '--out', 'x.smi', '--workers', '1', '--quiet', '--json');
  t.equal(s.status, 0, s.stderr);
  const lines = readFileSync(join(dir, 'x.smi'), 'utf8').trim().split('\n');
  t.equal(lines.length, 30, 'one line per sample');
  t.equal(lines.filter((l) => l.startsWith('# sample ')).length, JSON.parse(s.stdout).notMolecules, 'invalid samples are comment lines, counted');
  const e = cli('eval', '--model', ckpt, '--n', '30', '--quiet', '--json');
  t.equal(e.status, 0, e.stderr);
  const m = JSON.parse(e.stdout);
  t.equal(m.measures, 'molecules', 'a model of molecules is measured as molecules');
  t.notOk('mmd' in m || 'meanNodes' in m, 'and by those measures alone');
  t.equal(m.samples, 30);
  t.equal(m.valid, 30 - JSON.parse(s.stdout).notMolecules, 'eval and sample agree on validity (same seed)');
  t.equal(m.sizeHistogram.data.reduce((a: number, b: number) => a + b, 0), 152, 'the 172 kept molecules less the 20 held out');
  const human = cli('eval', '--model', ckpt, '--n', '30', '--quiet');
  t.equal(human.status, 0, human.stderr);
  t.match(human.stdout, new RegExp(`\\nvalidity +${m.validity.toFixed(3)} +${m.valid} of 30\\n`), 'a table for a person, the same numbers');
  t.match(human.stdout, /\nSNN to data +[0-9.-]+\n/);
  const d = cli('draw', '--model', ckpt, '--n', '4', '--out', 'd.svg', '--json');
  t.equal(d.status, 0, d.stderr);
  t.match(readFileSync(join(dir, 'd.svg'), 'utf8'), /valid molecules/);
  const a = cli('animate', '--model', ckpt, '--out', 'a.html', '--seed', '3', '--json');
  t.equal(a.status, 0, a.stderr);
});

t.test('molecule files: types inferred when none are given; bad input named by file:line', async (t) => {
  const smi = join(dir, 'small.smi');
  writeFileSync(smi, 'CCO\nc1ccccc1\nCC(=O)[O-]\nCCN\nC#N\n');
  const tr = cli('train', '--config', config('infer.json', { data: { file: smi, testSize: 1 }, model, train: { epochs: 1, batchSize: 4 }, sample: { vMax: 8 } }), '--out', 'run2', '--workers', '1', '--quiet', '--json');
  t.equal(tr.status, 0, tr.stderr);
  const inferred = JSON.parse(readFileSync(join(dir, 'run2', 'checkpoint.json'), 'utf8')).config.model;
  t.same([inferred.nodeTypes, inferred.edgeTypes], [['C', 'N', 'O', 'O-'], ['single', 'double', 'triple']], 'most frequent first: C 13, then N and O 2 each (ties by name), O- 1');
  const bad = join(dir, 'bad.smi');
  writeFileSync(bad, 'CCO\nC1CC\n');
  const b = cli('train', '--config', config('bad.json', { data: { file: bad }, model: { ...model, nodeTypes: ['C', 'O'], edgeTypes: ['single'] }, train }), '--out', 'run3', '--quiet');
  t.equal(b.status, 1);
  t.equal(b.stderr, `dgmg-pipe: ${bad}:2: RDKit cannot parse C1CC: SMILES Parse Error: unclosed ring for input: 'C1CC'\n`);
  const se = join(dir, 'se.smi');
  writeFileSync(se, 'CCO\nC[Se]C\n');
  const u = cli('train', '--config', config('se.json', { data: { file: se }, model: { ...model, nodeTypes: ['C', 'O'], edgeTypes: ['single'] }, train }), '--out', 'run4', '--quiet');
  t.equal(u.status, 1);
  t.match(u.stderr, /^dgmg-pipe: .*se\.smi:2: C\[Se\]C: atom 1 .* has type Se, which is not among the atom types \[C, O\]/);
  const cyc = cli('sample', '--n', '2', '--out', 'c.smi', '--workers', '1', '--quiet');
  t.equal(cyc.status, 1);
  t.match(cyc.stderr, /c\.smi: SMILES need a model of molecules/);
});
