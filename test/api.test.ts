import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { loadModel, parseModel, train, type GraphRecord, type Model, type TrainUpdate } from '../api';
import { heldOutNll } from '../pipeline/commands/eval';
import { recordGraph } from '../pipeline/model';
import { runCli } from '../bench/redis-server';
import { cliIn } from './cli-run';

const dir = mkdtempSync(join(tmpdir(), 'dgmg-api-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const cli = cliIn(dir);

/** A small run: 40 cycles of 4-6 nodes, batches of 8, a tiny model. */
const TINY = {
  data: { trainSize: 40, testSize: 8, familyParams: { minNodes: 4, maxNodes: 6 } },
  model: { nodeSize: 4, propRounds: 1 },
  train: { epochs: 2, batchSize: 8, seed: 3 },
  sample: { vMax: 8 },
};

const jsonl = (graphs: readonly GraphRecord[]): string => graphs.map((g) => `${JSON.stringify(g)}\n`).join('');
/** A JSONL file's lines re-serialized by JSON.stringify, so that both sides are spaced alike. */
const fileRecords = (file: string): string => jsonl(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as GraphRecord));

t.test('loadModel() samples the graphs dgmg-pipe sample writes for the same seed, on any number of workers', async (t) => {
  const model = loadModel();
  const out = join(dir, 'cli.jsonl');
  const r = cli('sample', '--n', '230', '--seed', '7', '--out', out, '--workers', '1', '--quiet');
  t.equal(r.status, 0, r.stderr);
  const one = await model.sample({ n: 230, seed: 7 });
  t.equal(jsonl(one), fileRecords(out), 'the same 230 graphs, in order');
  t.equal(jsonl(await model.sample({ n: 230, seed: 7, workers: 2 })), jsonl(one), '2 worker threads: the same graphs');
  t.not(jsonl(await model.sample({ n: 230, seed: 8 })), jsonl(one), 'another seed, other graphs');
  const small = await model.sample({ n: 50, seed: 7, vMax: 5 });
  t.ok(small.every((g) => g.num_nodes <= 5), 'vMax caps the size');
});

t.test('logLikelihood is the log p the held-out NLL of eval averages', async (t) => {
  const model = loadModel('models/cycles.json');
  const graphs: GraphRecord[] = [
    { num_nodes: 12, edges: Array.from({ length: 12 }, (_, i) => [i, (i + 1) % 12] as [number, number]) },
    { num_nodes: 4, edges: [[0, 1], [1, 2], [2, 3]] },
  ];
  const ll = model.logLikelihood(graphs);
  t.equal(ll.length, 2);
  t.ok(ll.every((x) => Number.isFinite(x) && x < 0), `log p < 0: ${ll.join(', ')}`);
  t.ok(ll[0] > ll[1], 'a cycle is likelier than a path under the cycles model');
  const nll = heldOutNll(model.checkpoint, graphs.map((g, i) => recordGraph(g, model.config.model, `graph ${i}`)));
  t.equal(-(ll[0] + ll[1]) / 2, nll, 'the mean of -log p is eval\'s held-out NLL, exactly');
  t.throws(() => model.logLikelihood([{ num_nodes: 2, edges: [[0, 0]] }]), /graph 1: .*self loop/, 'a bad graph is refused, naming it');
});

t.test('a checkpoint goes out as text or a file and comes back the same model', async (t) => {
  const model = loadModel();
  const again = parseModel(model.toCheckpointText(), 'copy');
  t.same(again.checkpoint.params, model.checkpoint.params);
  t.equal(again.toCheckpointText(), model.toCheckpointText(), 'text round trip');
  const file = join(dir, 'saved.json');
  model.save(file);
  t.equal(readFileSync(file, 'utf8'), model.toCheckpointText(), 'save writes the text');
  t.throws(() => parseModel('{"format": "other"}', 'x.json'), /x\.json: not a dgmg-pipe checkpoint/);
  t.throws(() => loadModel(join(dir, 'missing.json')), /missing\.json: not a readable checkpoint/);
});

t.test('train streams a report per step and ends with the model; 2 workers give the model of 1 to round-off, and the same bits with train.shards fixed', async (t) => {
  const run = async (workers: number): Promise<TrainUpdate[]> => lastValueFrom(train(TINY, { workers }).pipe(toArray()));
  const one = await run(1);
  const steps = one.filter((u) => u.kind === 'step');
  t.equal(steps.length, 10, '2 epochs of 5 batches');
  t.same(steps.map((u) => (u.kind === 'step' ? u.report.step : 0)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const last = one[one.length - 1];
  t.equal(last.kind, 'done');
  if (last.kind !== 'done') return;
  t.equal(last.completed, true);
  t.equal(last.model.checkpoint.step, 10);
  const two = await run(2);
  const last2 = two[two.length - 1];
  if (last2.kind !== 'done') {
    t.fail('no model');
    return;
  }
  // Two shards sum a batch's gradient in another order than one: the same update to float32 round-off.
  const a = last.model.checkpoint.params;
  const b = last2.model.checkpoint.params;
  const off = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
  t.ok(off < 1e-4, `the same parameters to round-off (largest difference ${off})`);
  t.same([last.model.config.train.shards, last2.model.config.train.shards], [1, 2], 'each model records the shards it was trained with');
  // with train.shards fixed the threads do not matter: bit for bit
  const fixed = async (workers: number): Promise<number[]> => {
    const u = await lastValueFrom(train({ ...TINY, train: { ...TINY.train, shards: 2 } }, { workers }));
    if (u.kind !== 'done') throw new Error('no model');
    return Array.from(u.model.checkpoint.params);
  };
  t.same(await fixed(1), await fixed(2), 'train.shards 2: this thread and 2 worker threads give the same parameters, bit for bit');
  // the trained model samples in the CLI, and a resumed run continues it
  const file = join(dir, 'trained.json');
  last.model.save(file);
  const r = cli('sample', '--model', file, '--n', '20', '--seed', '1', '--out', join(dir, 't.jsonl'), '--quiet', '--workers', '1');
  t.equal(r.status, 0, r.stderr);
  t.equal(fileRecords(join(dir, 't.jsonl')), jsonl(await last.model.sample({ n: 20, seed: 1 })));
});

t.test('a model with a destination-distance term trains on workers and samples in the CLI as in the library', async (t) => {
  const config = { ...TINY, model: { ...TINY.model, destinationDistance: 3 } };
  const done = async (workers: number): Promise<Model> => {
    const last = await lastValueFrom(train(config, { workers, maxSteps: 4 }));
    if (last.kind !== 'done') throw new Error('no model');
    return last.model;
  };
  const one = await done(1);
  const two = await done(2);
  t.equal(one.config.model.destinationDistance, 3, 'the model keeps D');
  const table = one.checkpoint.params.subarray(one.checkpoint.params.length - 4);
  t.ok(table.some((x) => x !== 0), 'its distance table (the last (D + 1) x B entries) has trained');
  const off = one.checkpoint.params.reduce((m, x, i) => Math.max(m, Math.abs(x - two.checkpoint.params[i])), 0);
  t.ok(off < 1e-4, `2 worker threads give the parameters of 1 to round-off (largest difference ${off})`);
  const file = join(dir, 'distance.json');
  one.save(file);
  const r = cli('sample', '--model', file, '--n', '20', '--seed', '2', '--out', join(dir, 'd.jsonl'), '--quiet', '--workers', '2');
  t.equal(r.status, 0, r.stderr);
  t.equal(fileRecords(join(dir, 'd.jsonl')), jsonl(await loadModel(file).sample({ n: 20, seed: 2 })), 'the CLI\'s sampling workers draw the library\'s graphs');
});

t.test('train stops after the step in flight when its signal aborts, and on maxSteps', async (t) => {
  const stop = new AbortController();
  const seen: TrainUpdate[] = [];
  await new Promise<void>((done, fail) =>
    train(TINY, { signal: stop.signal }).subscribe({
      next: (u) => {
        seen.push(u);
        if (u.kind === 'step' && u.report.step === 3) stop.abort();
      },
      complete: done,
      error: fail,
    }),
  );
  const end = seen[seen.length - 1];
  t.equal(seen.length, 4, '3 steps, then the model');
  t.ok(end.kind === 'done' && !end.completed && end.model.checkpoint.step === 3, 'the model after step 3, not completed');
  const capped = await lastValueFrom(train(TINY, { maxSteps: 4 }));
  t.ok(capped.kind === 'done' && !capped.completed && capped.stopped === 'max-steps' && capped.model.checkpoint.step === 4, 'maxSteps 4: stopped there, not completed');
});

t.test('train on graphs given in memory, and on SMILES; a molecule model gives SMILES', async (t) => {
  const cycles: GraphRecord[] = Array.from({ length: 20 }, (_, k) => {
    const n = 4 + (k % 3);
    return { num_nodes: n, edges: Array.from({ length: n }, (_, i) => [i, (i + 1) % n] as [number, number]) };
  });
  const done = await lastValueFrom(train({ ...TINY, train: { ...TINY.train, epochs: 1 } }, { data: cycles }));
  t.ok(done.kind === 'done' && done.model.checkpoint.graphsSeen === 16, 'trained on the 16 graphs left after holding out a fifth');
  t.rejects(lastValueFrom(train(TINY, { data: [{ num_nodes: 2, edges: [[0, 1], [1, 0]] }] })), /graph 1: .*twice|duplicate/i, 'a bad graph is refused');
  const smiles = ['CCO', 'CCN', 'c1ccccc1', 'CC(=O)O', 'OCCO', 'CCCC', 'CNC', 'C=CC', 'CC#N', 'COC'];
  const mol = await lastValueFrom(train({ model: { nodeSize: 4, propRounds: 1 }, train: { epochs: 1, batchSize: 4 }, sample: { vMax: 8 } }, { data: { smiles } }));
  if (mol.kind !== 'done') {
    t.fail('no model');
    return;
  }
  const model: Model = mol.model;
  t.same(model.config.model.nodeTypes, ['C', 'O', 'N'], 'atom types inferred from the SMILES, most frequent first');
  t.ok(model.isMolecular);
  const s = await model.smiles([{ num_nodes: 3, edges: [[0, 1], [1, 2]], node_types: ['C', 'C', 'O'], edge_types: ['single', 'single'] }]);
  t.same(s, ['CCO']);
  await t.rejects(loadModel().smiles([]), /SMILES need a model of molecules/);
});

t.test('a model with the node-count input trains, samples on workers, scores and round-trips as text', async (t) => {
  const done = await lastValueFrom(train({ ...TINY, model: { ...TINY.model, nodeCountInput: 6 }, train: { ...TINY.train, epochs: 1 } }));
  if (done.kind !== 'done') {
    t.fail('no model');
    return;
  }
  const model = done.model;
  t.equal(model.config.model.nodeCountInput, 6);
  const one = await model.sample({ n: 30, seed: 4 });
  t.equal(jsonl(await model.sample({ n: 30, seed: 4, workers: 2 })), jsonl(one), '2 worker threads: the same graphs');
  t.ok(model.logLikelihood(one).every(Number.isFinite), 'its samples score finitely');
  const again = parseModel(model.toCheckpointText(), 'copy');
  t.equal(again.config.model.nodeCountInput, 6, 'the key survives the text');
  t.same(again.logLikelihood(one), model.logLikelihood(one), 'and so does the table');
});

t.test('bad options are refused with their name', async (t) => {
  const model = loadModel();
  await t.rejects(model.sample({ n: 0 }), /n must be a positive integer, got 0/);
  await t.rejects(model.sample({ n: 5, workers: 1.5 }), /workers must be a positive integer/);
  await t.rejects(lastValueFrom(train({ train: { lr: -1 } })), /config: train\.lr must be > 0/);
  await t.rejects(lastValueFrom(train('no-such-config.json')), /no-such-config\.json: cannot read/);
});

t.test('dgmg-pipe web serves the built page on loopback, nothing outside it, until SIGINT', async (t) => {
  const p = runCli(['web', '--port', '0']);
  await p.waitFor(/serving the web page at http:\/\/127\.0\.0\.1:\d+\//);
  const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(p.stderr())?.[1] ?? '';
  const page = await fetch(url);
  t.equal(page.status, 200);
  t.match(await page.text(), /<title>dgmg-pipe<\/title>/);
  const wasm = await fetch(`${url}kernels.wasm`);
  t.equal(wasm.headers.get('content-type'), 'application/wasm', 'kernels.wasm as WebAssembly, for streaming compilation');
  t.equal((await fetch(`${url}%2e%2e/%2e%2e/package.json`)).status, 404, 'no file outside the page\'s folder');
  t.equal((await fetch(`${url}nothing-here.js`)).status, 404);
  p.child.kill('SIGINT');
  t.same(await p.exit, { code: 0, signal: null }, 'Ctrl-C stops it');
  const bad = cli('web', '--port', '70000');
  t.equal(bad.status, 1);
  t.match(bad.stderr, /--port must be an integer from 0 to 65535, got 70000/);
});
