import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatJsonlLine, parseJsonl } from '../graphs/formats';
import type { Graph } from '../graphs/graph';
import { cliIn } from './cli-run';

/** Typed graphs through the product: a typed JSONL trains a typed model, whose samples come back as typed JSONL. */

const dir = mkdtempSync(join(tmpdir(), 'dgmg-typed-'));

const cli = cliIn(dir);

const names = { nodeTypes: ['C', 'N', 'O'], edgeTypes: ['single', 'double'] };
// even cycles of alternating C and N atoms, single and double bonds in turn
const cycles: Graph[] = Array.from({ length: 40 }, (_, i) => {
  const n = 4 + 2 * (i % 3);
  return {
    numNodes: n,
    edges: Array.from({ length: n }, (_, j) => [j, (j + 1) % n] as [number, number]),
    nodeTypes: Array.from({ length: n }, (_, j) => j % 2),
    edgeTypes: Array.from({ length: n }, (_, j) => j % 2),
  };
});
const data = join(dir, 'rings.jsonl');
writeFileSync(data, cycles.map((g) => formatJsonlLine(g, names)).join('\n') + '\n');
const config = join(dir, 'typed.json');
writeFileSync(
  config,
  JSON.stringify({
    data: { file: data, testSize: 5 },
    model: { nodeSize: 8, propRounds: 1, ...names },
    train: { epochs: 2, batchSize: 8, biasInit: 'baseRate' },
    sample: { vMax: 12 },
  }),
);

t.test('train on a typed JSONL, sample typed graphs, and the file round-trips', async (t) => {
  const tr = cli('train', '--config', config, '--out', join(dir, 'run'), '--json', '--quiet');
  t.equal(tr.status, 0, tr.stderr);
  const ckpt = JSON.parse(readFileSync(join(dir, 'run', 'checkpoint.json'), 'utf8')) as { config: { model: typeof names }; params: Array<{ name: string; shape: number[] }> };
  t.same([ckpt.config.model.nodeTypes, ckpt.config.model.edgeTypes], [names.nodeTypes, names.edgeTypes], 'the checkpoint carries the type names');
  t.same(ckpt.params.find((p) => p.name === 'addNode.typeEmbed')?.shape, [3, 8], 'one embedding per node type');
  t.same(ckpt.params.find((p) => p.name === 'addNode.stop.w')?.shape, [16, 4], 'add-node logits: 3 types and stop');
  t.same(ckpt.params.find((p) => p.name === 'prop.0.msg.w')?.shape, [2 * 8 + 2, 16], 'messages read the one-hot of 2 edge types');

  const out = join(dir, 'typed-samples.jsonl');
  const s = cli('sample', '--model', join(dir, 'run', 'checkpoint.json'), '--n', '60', '--out', out, '--seed', '5', '--quiet');
  t.equal(s.status, 0, s.stderr);
  const text = readFileSync(out, 'utf8');
  const lines = text.trimEnd().split('\n');
  const graphs = parseJsonl(text, out, names);
  t.equal(graphs.length, 60);
  t.ok(graphs.every((g) => g.nodeTypes?.length === g.numNodes && g.edgeTypes?.length === g.edges.length), 'every sample carries a type per node and per edge');
  t.ok(lines.every((l) => /"node_types": \[("(C|N|O)"(, )?)*\], "edge_types": \[("(single|double)"(, )?)*\]\}$/.test(l)), 'types are written as the config\'s names');
  t.same(graphs.map((g) => formatJsonlLine(g, names)), lines, 'parse and format give the file back');

  const again = join(dir, 'typed-samples-1.jsonl');
  t.equal(cli('sample', '--model', join(dir, 'run', 'checkpoint.json'), '--n', '60', '--out', again, '--seed', '5', '--quiet', '--workers', '1').status, 0);
  t.equal(readFileSync(again, 'utf8'), text, 'worker threads carry the types: same file from 1 and 2 workers');

  const ev = cli('eval', '--model', join(dir, 'run', 'checkpoint.json'), '--n', '50', '--json', '--quiet');
  t.equal(ev.status, 0, ev.stderr);
  t.ok(Number.isFinite((JSON.parse(ev.stdout) as { heldOutNll: number }).heldOutNll), 'eval scores the typed test graphs');
});

t.test('a typed file with a type the config does not name fails with file, line and reason', async (t) => {
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, `${formatJsonlLine(cycles[0], names)}\n{"num_nodes": 2, "edges": [[0, 1]], "node_types": ["C", "Xe"]}\n`);
  const r = cli('train', '--config', config, '--data', bad, '--out', join(dir, 'bad-run'), '--quiet');
  t.not(r.status, 0);
  t.match(r.stderr, `bad.jsonl:2: node_types[1] is "Xe", not one of the config's node types C, N, O`);
});
