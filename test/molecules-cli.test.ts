import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(__dirname, '..', 'bin', 'dgmg-pipe.js');
const FIXTURE = resolve(__dirname, '..', '..', 'test', 'fixtures', 'molecules', 'nci-first-200.smi');
const dir = mkdtempSync(join(tmpdir(), 'dgmg-molecules-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
/** `dgmg-pipe molecules <args>`. */
const plain = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [CLI, 'molecules', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
/** `dgmg-pipe molecules <args> --json`. */
const run = (...args: string[]): { code: number | null; out: string; err: string } => plain(...args, '--json');

t.test('survey: the types by frequency, and what each filter keeps, as export counts it', async (t) => {
  const r = run('survey', FIXTURE, '--max-types', '3');
  t.equal(r.code, 0, r.err);
  const survey = JSON.parse(r.out);
  t.equal(survey.molecules, 200);
  t.same(survey.moleculesWithType.slice(0, 3), [{ type: 'C', count: 200 }, { type: 'O', count: 160 }, { type: 'N', count: 103 }]);
  t.equal(survey.kept.length, 7 * 3, '7 size limits times 3 type sets');
  const row = survey.kept.find((k: { maxAtoms: number | null; nodeTypes: string[] }) => k.maxAtoms === 23 && k.nodeTypes.length === 3);
  const e = run('export', FIXTURE, join(dir, 'con.jsonl'), '--types', 'C,O,N', '--max-atoms', '23');
  t.equal(e.code, 0, e.err);
  t.equal(row.kept, JSON.parse(e.out).kept, 'the survey and export keep the same molecules');
  const lines = plain('survey', FIXTURE, '--max-types', '1');
  t.equal(lines.code, 0, lines.err);
  t.match(lines.out, /^file +\S*nci-first-200\.smi\nmolecules +200\natom types\n +type +atoms +molecules\n +C +2379 +200\n/, 'without --json: rows and tables');
  t.match(lines.out, /\n +atom types +<= 15 +<= 20 +<= 23 +<= 25 +<= 30 +<= 40 +any size\n +C +1 +1 +1 +1 +1 +1 +1\n$/, 'what each filter keeps: type sets against size limits');
});

t.test('survey counts the molecules of several fragments, which a model that joins every atom skips', async (t) => {
  const file = join(dir, 'mixture.smi');
  writeFileSync(file, 'CCO\nCC(=O)O.NCC\n[Na+].[Cl-]\nc1ccccc1\n');
  const r = run('survey', file);
  t.equal(r.code, 0, r.err);
  t.equal(JSON.parse(r.out).fragmented, 2, 'the acid-amine mixture and the salt');
  t.match(plain('survey', file).out, /\nseveral fragments +2 \(skipped by a model that joins every atom/, 'and a line for people');
  t.equal(JSON.parse(run('survey', FIXTURE).out).fragmented, 0, 'the NCI fixture has none');
});

t.test('survey names every bond type RDKit reads, dative bonds too', async (t) => {
  const file = join(dir, 'dative.smi');
  writeFileSync(file, 'C[NH2]->[Cu]\nC=C\n');
  const r = run('survey', file);
  t.equal(r.code, 0, r.err);
  t.same(JSON.parse(r.out).bondTypes, [{ type: 'dative', count: 1 }, { type: 'double', count: 1 }, { type: 'single', count: 1 }]);
});

t.test('export writes typed JSONL and its config keys; eval-jsonl measures samples against it', async (t) => {
  const out = join(dir, 'nci.jsonl');
  const r = run('export', FIXTURE, out, '--types', 'C,N,O,S,Cl,Br,F,N+,O-', '--max-atoms', '23');
  t.equal(r.code, 0, r.err);
  const counts = JSON.parse(r.out);
  t.same({ ...counts, out: undefined, config: undefined }, { read: 200, kept: 172, unparsable: 0, tooLarge: 16, outsideTypes: 12, notRepresentable: 0, out: undefined, config: undefined });
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  t.equal(lines.length, 172);
  t.same(JSON.parse(lines[0]), { num_nodes: 9, edges: [[0, 1], [1, 2], [2, 3], [3, 4], [3, 5], [5, 6], [6, 7], [7, 8], [7, 1]], node_types: ['C', 'C', 'C', 'C', 'O', 'C', 'C', 'C', 'O'], edge_types: ['single', 'double', 'single', 'double', 'single', 'double', 'single', 'double', 'single'] }, 'CC1=CC(=O)C=CC1=O in canonical order, kekulized');
  const config = JSON.parse(readFileSync(join(dir, 'nci.config.json'), 'utf8'));
  t.same(config, { data: { file: out }, model: { nodeTypes: ['C', 'N', 'O', 'S', 'Cl', 'Br', 'F', 'N+', 'O-'], edgeTypes: ['single', 'double', 'triple'] }, sample: { vMax: 23 } });

  // Samples: the first two training molecules (one written with type indexes), and an invalid graph.
  const indexed = JSON.parse(lines[1]);
  indexed.node_types = indexed.node_types.map((n: string) => config.model.nodeTypes.indexOf(n));
  indexed.edge_types = indexed.edge_types.map((n: string) => config.model.edgeTypes.indexOf(n));
  const samples = join(dir, 'samples.jsonl');
  writeFileSync(samples, `${lines[0]}\n${JSON.stringify(indexed)}\n{"num_nodes": 2, "edges": [[0, 1]], "node_types": ["F", "F"], "edge_types": ["double"]}\n`);
  const e = run('eval-jsonl', samples, out, '--config', join(dir, 'nci.config.json'));
  t.equal(e.code, 0, e.err);
  const report = JSON.parse(e.out);
  t.equal(report.samplesFile, samples);
  t.same([report.samples, report.valid, report.unique, report.novel, report.validity, report.uniqueness, report.novelty], [3, 2, 2, 0, 2 / 3, 1, 0]);
  const noConfig = run('eval-jsonl', samples, out);
  t.equal(noConfig.code, 1);
  t.match(noConfig.err, /Missing required argument: config/);
  const wrongTypes = join(dir, 'wrong.config.json');
  writeFileSync(wrongTypes, JSON.stringify({ model: { nodeTypes: ['C', 'O'], edgeTypes: ['single', 'double', 'triple'] } }));
  const outside = run('eval-jsonl', samples, out, '--config', wrongTypes);
  t.equal(outside.code, 1);
  t.match(outside.err, /^dgmg-pipe: .*nci\.jsonl:\d+: node_types\[\d+\] is "\w+", not one of the config's node types C, O\n$/);
});

t.test('compare measures one SMILES file against another', async (t) => {
  const a = join(dir, 'a.smi');
  const b = join(dir, 'b.csv');
  writeFileSync(a, 'C1CC1CC\nc1ccccc1O\nC1CC\nCCO\n');
  writeFileSync(b, 'smiles,name\nOc1ccccc1,phenol\nCCCC,butane\n');
  const r = run('compare', a, b);
  t.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out);
  t.same(report.samplesRead, { read: 4, kept: 3, unparsable: 1, tooLarge: 0, outsideTypes: 0, notRepresentable: 0 }, 'C1CC does not parse: skipped, counted');
  t.same([report.valid, report.unique, report.novel], [3, 3, 2], 'phenol is in the data');
  t.same(report.threeMemberedRing, { samples: 1 / 3, data: 0 });
  t.same(report.scaffolds, { samples: 2, data: 1, shared: 1, novel: 0.5, dataCovered: 1, acyclic: { samples: 1 / 3, data: 0.5 } });
  const missing = run('compare', a, join(dir, 'none.smi'));
  t.equal(missing.code, 1);
  t.match(missing.err, /^dgmg-pipe: .*none\.smi: cannot read: ENOENT/);
});

t.test('bad input: one line naming file:line, exit 1', async (t) => {
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'name,smiles\nok,CCO\nbroken,C1CC\n');
  const r = run('export', bad, join(dir, 'x.jsonl'), '--types', 'C,O');
  t.equal(r.code, 0, 'export skips unparsable molecules and counts them');
  t.equal(JSON.parse(r.out).unparsable, 1);
  const s = run('survey', join(dir, 'missing.smi'));
  t.equal(s.code, 1);
  t.match(s.err, /^dgmg-pipe: .*missing\.smi: cannot read: ENOENT/);
  t.equal(s.err.trim().split('\n').length, 1);
  const atoms = run('export', FIXTURE, join(dir, 'y.jsonl'), '--types', 'C', '--max-atoms', '0');
  t.equal(atoms.code, 1);
  t.equal(atoms.err, 'dgmg-pipe: --max-atoms must be a positive integer, got "0"\n');
  const none = plain();
  t.equal(none.code, 1);
  t.match(none.err, /name a molecules command: survey, export, eval-jsonl, compare/);
});
