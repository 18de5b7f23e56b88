import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJsonl } from '../graphs/formats';
import { valenceExcess, valenceRule } from '../graphs/valence';
import { cliIn } from './cli-run';

/** The valence constraint through the command line: on by default, --no-valence-mask, and training data that exceeds a valence. */

const dir = mkdtempSync(join(tmpdir(), 'dgmg-cli-valence-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const cli = cliIn(dir);

const vocab = { nodeTypes: ['C', 'O', 'F'], edgeTypes: ['single', 'double'] };
const line = (nodes: string[], edges: Array<[number, number, string]>): string =>
  JSON.stringify({ num_nodes: nodes.length, edges: edges.map(([u, v]) => [u, v]), node_types: nodes, edge_types: edges.map((e) => e[2]) });
const molecules = [
  line(['C', 'O'], [[0, 1, 'double']]),
  line(['C', 'C', 'F'], [[0, 1, 'single'], [1, 2, 'single']]),
  line(['O', 'C', 'C', 'O'], [[0, 1, 'single'], [1, 2, 'double'], [2, 3, 'single']]),
  line(['F', 'C', 'F'], [[0, 1, 'single'], [1, 2, 'single']]),
];
const config = (name: string, file: string): string => {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify({ data: { file, testSize: 1 }, model: { nodeSize: 6, propRounds: 1, ...vocab }, train: { epochs: 2, batchSize: 2 }, sample: { vMax: 6 } }));
  return f;
};

t.test('molecule models train with the constraint by default; --no-valence-mask trains without it', async (t) => {
  const data = join(dir, 'ok.jsonl');
  writeFileSync(data, `${molecules.join('\n')}\n`);
  const on = cli('train', '--config', config('ok.json', data), '--out', 'on', '--workers', '1', '--quiet', '--json');
  t.equal(on.status, 0, on.stderr);
  t.equal(JSON.parse(readFileSync(join(dir, 'on', 'checkpoint.json'), 'utf8')).config.model.valenceMask, true, 'the checkpoint says so');
  const s = cli('sample', '--model', join('on', 'checkpoint.json'), '--n', '300', '--out', 'on.jsonl', '--workers', '1', '--quiet');
  t.equal(s.status, 0, s.stderr);
  const rule = valenceRule(vocab);
  const samples = parseJsonl(readFileSync(join(dir, 'on.jsonl'), 'utf8'), 'on.jsonl', vocab);
  t.equal(samples.length, 300);
  t.equal(samples.filter((g) => valenceExcess(g, rule) !== null).length, 0, 'no sample of the constrained model exceeds a valence');

  const off = cli('train', '--config', config('ok.json', data), '--out', 'off', '--workers', '1', '--quiet', '--json', '--no-valence-mask');
  t.equal(off.status, 0, off.stderr);
  t.equal(JSON.parse(readFileSync(join(dir, 'off', 'checkpoint.json'), 'utf8')).config.model.valenceMask, false, '--no-valence-mask is saved in the checkpoint');
  const resume = cli('train', '--resume', 'off', '--valence-mask', '--quiet');
  t.equal(resume.status, 1);
  t.match(resume.stderr, /--resume continues .* exactly; only --epochs may change, not valenceMask/);
});

t.test('a training graph that exceeds a valence is refused with its file and line, unless the constraint is off', async (t) => {
  const data = join(dir, 'bad.jsonl');
  // line 4 (after a blank line): a carbon with a double bond to each of three atoms, order 6
  writeFileSync(data, `${molecules[0]}\n${molecules[1]}\n\n${line(['C', 'O', 'O', 'C'], [[0, 1, 'double'], [0, 2, 'double'], [0, 3, 'double']])}\n${molecules[2]}\n`);
  const bad = cli('train', '--config', config('bad.json', data), '--out', 'bad', '--workers', '1', '--quiet');
  t.equal(bad.status, 1);
  t.equal(bad.stderr, `dgmg-pipe: ${data}:4: atom 0 (0-based, C) has bonds of total order 6, more than the 4 RDKit's default valences allow C: fix the graph, or train without the valence constraint (--no-valence-mask)\n`);
  const off = cli('train', '--config', config('bad.json', data), '--out', 'bad-off', '--workers', '1', '--quiet', '--no-valence-mask');
  t.equal(off.status, 0, off.stderr);
});
