import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatGraph6, formatJsonlLine, parseJsonl } from '../graphs/formats';
import { cliIn } from './cli-run';

const dir = mkdtempSync(join(tmpdir(), 'dgmg-cli-'));

const cli = cliIn(dir);

const tiny = join(dir, 'tiny.json');
writeFileSync(
  tiny,
  JSON.stringify({
    data: { trainSize: 20, testSize: 4, familyParams: { minNodes: 4, maxNodes: 6 } },
    model: { nodeSize: 4, propRounds: 1 },
    train: { epochs: 1, batchSize: 5, checkpointEvery: 2 },
    sample: { vMax: 8 },
  }),
);

t.test('train, then sample from its checkpoint', async (t) => {
  const tr = cli('train', '--config', tiny, '--out', join(dir, 'run'), '--json', '--quiet');
  t.equal(tr.status, 0, tr.stderr);
  const summary = JSON.parse(tr.stdout) as { steps: number; graphsTrained: number; completed: boolean };
  t.same([summary.steps, summary.graphsTrained, summary.completed], [4, 20, true], 'one epoch of 20 graphs in batches of 5');
  const out = join(dir, 'g.jsonl');
  const s = cli('sample', '--model', join(dir, 'run', 'checkpoint.json'), '--n', '150', '--out', out, '--seed', '3', '--quiet');
  t.equal(s.status, 0, s.stderr);
  const graphs = parseJsonl(readFileSync(out, 'utf8'), out);
  t.equal(graphs.length, 150, 'the file holds n valid JSONL graphs');
  t.ok(graphs.every((g) => g.numNodes <= 8), 'within v_max');
  const again = join(dir, 'g2.jsonl');
  cli('sample', '--model', join(dir, 'run', 'checkpoint.json'), '--n', '150', '--out', again, '--seed', '3', '--quiet');
  t.equal(readFileSync(again, 'utf8'), readFileSync(out, 'utf8'), 'same seed, same file');
});

t.test('the shipped model samples without --model and is at least 95% valid', async (t) => {
  const out = join(dir, 'shipped.jsonl');
  const s = cli('sample', '--n', '20', '--out', out, '--quiet', '--workers', '1');
  t.equal(s.status, 0, s.stderr);
  t.equal(parseJsonl(readFileSync(out, 'utf8'), out).length, 20);
  const ev = cli('eval', '--n', '1000', '--json', '--quiet');
  t.equal(ev.status, 0, ev.stderr);
  const r = JSON.parse(ev.stdout) as { validity: number; model: string };
  t.match(r.model, /models\/cycles\.json$/);
  t.ok(r.validity >= 0.95, `validity ${r.validity} of 1000 samples`);
});

t.test('train on a user\'s JSONL or graph6 file, in every node order', async (t) => {
  const graphs = Array.from({ length: 12 }, (_, i) => ({ numNodes: 3 + (i % 4), edges: Array.from({ length: 2 + (i % 4) }, (_, j) => [j, j + 1] as [number, number]) }));
  const jsonl = join(dir, 'paths.jsonl');
  writeFileSync(jsonl, graphs.map((g) => formatJsonlLine(g)).join('\n') + '\n');
  const g6 = join(dir, 'paths.g6');
  writeFileSync(g6, graphs.map((g) => formatGraph6(g)).join('\n') + '\n');
  for (const [file, order] of [[jsonl, 'natural'], [g6, 'bfs'], [jsonl, 'dfs'], [g6, 'random']]) {
    const r = cli('train', '--config', tiny, '--data', file, '--order', order, '--out', join(dir, `user-${order}`), '--json', '--quiet');
    t.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { graphsTrained: number; validity: number | null };
    t.equal(summary.graphsTrained, 10, `${order}: 12 graphs, 2 held out for test, one epoch`);
    t.equal(summary.validity, null, 'no family, so no validity');
  }
  const big = join(dir, 'big.jsonl');
  writeFileSync(big, `${formatJsonlLine({ numNodes: 3, edges: [] })}\n${formatJsonlLine({ numNodes: 30, edges: [] })}\n`);
  const r = cli('train', '--config', tiny, '--data', big, '--out', join(dir, 'big'), '--quiet');
  t.not(r.status, 0);
  t.match(r.stderr, `${big}:2: has 30 nodes, more than sample.vMax = 8`);
});

t.test('eval, draw and animate a checkpoint', async (t) => {
  const model = join(dir, 'run', 'checkpoint.json');
  const ev = cli('eval', '--model', model, '--n', '120', '--json', '--quiet');
  t.equal(ev.status, 0, ev.stderr);
  const r = JSON.parse(ev.stdout) as { samples: number; validity: number; uniqueness: number; novelty: number; heldOutNll: number; testGraphs: number; mmd: Record<string, number | null> };
  t.equal(r.samples, 120);
  t.ok(r.validity >= 0 && r.validity <= 1 && r.uniqueness > 0 && r.uniqueness <= 1 && r.novelty >= 0 && r.novelty <= 1, 'shares are in [0, 1]');
  t.equal(r.testGraphs, 4, 'held-out graphs are the config\'s test split');
  t.ok(Number.isFinite(r.heldOutNll) && r.heldOutNll > 0, `held-out NLL ${r.heldOutNll}`);
  t.same(Object.keys(r.mmd).sort(), ['clustering', 'degree', 'orbit']);

  const svg = join(dir, 'samples.svg');
  const dr = cli('draw', '--model', model, '--n', '9', '--out', svg, '--json');
  t.equal(dr.status, 0, dr.stderr);
  const text = readFileSync(svg, 'utf8');
  t.match(text, /^<svg[\s\S]*<\/svg>\s*$/, 'an SVG document');
  t.equal((text.match(/valid/g) ?? []).length >= 9, true, 'every graph is marked valid or invalid');

  const html = join(dir, 'gen.html');
  const an = cli('animate', '--model', model, '--out', html, '--seed', '4', '--json');
  t.equal(an.status, 0, an.stderr);
  const info = JSON.parse(an.stdout) as { decisions: number; nodes: number; edges: number };
  t.equal(info.decisions, 2 * info.nodes + 1 + 2 * info.edges, 'the animation has every decision of the sampled graph');
  t.match(readFileSync(html, 'utf8'), /<html[\s\S]*<script[\s\S]*<\/html>/);
  t.notMatch(readFileSync(html, 'utf8'), /(src|href|url)\s*[=(]\s*["']?https?:/, 'nothing is loaded from a network');

  for (const cmd of ['train', 'sample', 'eval', 'draw', 'animate']) {
    const h = cli(cmd, '--help');
    t.equal(h.status, 0, `${cmd} --help`);
    t.match(h.stdout, `dgmg-pipe ${cmd}`);
  }
});

t.test('bad input fails with the file and the reason', async (t) => {
  const badKey = join(dir, 'bad-key.json');
  writeFileSync(badKey, JSON.stringify({ train: { epochz: 3 } }));
  let r = cli('train', '--config', badKey, '--quiet');
  t.not(r.status, 0);
  t.match(r.stderr, `${badKey}: unknown key train.epochz`);

  const badJson = join(dir, 'broken.json');
  writeFileSync(badJson, '{"train": ');
  r = cli('train', '--config', badJson, '--quiet');
  t.not(r.status, 0);
  t.match(r.stderr, `${badJson}: not valid JSON`);

  const badData = join(dir, 'graphs.jsonl');
  writeFileSync(badData, '{"num_nodes": 3, "edges": [[0, 1]]}\n{"num_nodes": 3, "edges": [[0, 0]]}\n');
  r = cli('train', '--config', tiny, '--data', badData, '--out', join(dir, 'run-bad'), '--quiet');
  t.not(r.status, 0);
  t.match(r.stderr, `${badData}:2`);
  t.match(r.stderr, 'self loop');

  r = cli('train', '--resume', join(dir, 'run'), '--config', 'configs/cycles.json', '--quiet');
  t.not(r.status, 0, 'a checkpoint from another model config is refused');
  t.match(r.stderr, /checkpoint\.json: was trained with model .* but configs\/cycles\.json asks for model/);

  r = cli('train', '--resume', join(dir, 'run'), '--lr', '0.1', '--quiet');
  t.not(r.status, 0, 'a resumed run refuses changed settings');
  t.match(r.stderr, 'only --epochs may change, not lr');

  r = cli('sample', '--model', join(dir, 'missing.json'), '--quiet');
  t.not(r.status, 0);
  t.match(r.stderr, 'missing.json: not a readable checkpoint');

  r = cli('sample', '--model', join(dir, 'run', 'checkpoint.json'), '--n', '0');
  t.not(r.status, 0);
  t.match(r.stderr, '--n must be a positive integer');

  for (const cmd of ['eval', 'draw', 'animate']) {
    r = cli(cmd, '--model', join(dir, 'tiny.json'), ...(cmd === 'eval' ? [] : ['--out', join(dir, 'x.out')]));
    t.not(r.status, 0, `${cmd} refuses a file that is not a checkpoint`);
    t.match(r.stderr, 'tiny.json: not a dgmg-pipe checkpoint');
  }
  r = cli('draw', '--model', join(dir, 'run', 'checkpoint.json'), '--n', '0');
  t.not(r.status, 0);
  t.match(r.stderr, '--n must be an integer from 1 to 400');

});

t.test('--resume with a config file refuses every difference but train.epochs, naming the keys', async (t) => {
  const out = join(dir, 'run-resume');
  let r = cli('train', '--config', tiny, '--out', out, '--json', '--quiet');
  t.equal(r.status, 0, r.stderr);
  const base = JSON.parse(readFileSync(tiny, 'utf8')) as { data: object; model: object; train: object; sample: object };
  const other = join(dir, 'other.json');
  writeFileSync(other, JSON.stringify({ ...base, data: { ...base.data, trainSize: 30 }, train: { ...base.train, epochs: 2, lr: 0.01 } }));
  const before = readFileSync(join(out, 'checkpoint.json'), 'utf8');
  r = cli('train', '--resume', out, '--config', other, '--quiet');
  t.not(r.status, 0);
  t.match(r.stderr, `${other}: differs from the config of ${join(out, 'checkpoint.json')} in data.trainSize, train.lr; --resume continues a run exactly, only train.epochs may change`);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  t.equal(readFileSync(join(out, 'checkpoint.json'), 'utf8'), before, 'the checkpoint is untouched');

  writeFileSync(other, JSON.stringify({ ...base, train: { ...base.train, epochs: 2 } }));
  r = cli('train', '--resume', out, '--config', other, '--json', '--quiet');
  t.equal(r.status, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { completed: true, steps: 8 }, 'a second epoch from the config file');
});

