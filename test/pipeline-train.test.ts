import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCheckpointMatches, loadCheckpoint, saveCheckpoint, CheckpointError } from '../pipeline/checkpoint';
import { configFromJson, ConfigError, loadConfig } from '../pipeline/config';
import { BatchSource, graphSequence, loadDataset, stopRates, type Dataset } from '../pipeline/dataset';
import { initParams, paramLayout, typeCounts } from '../model/params';
import { inProcessRunner, splitShards } from '../pipeline/runner';
import { sequenceWork } from '../model/teacher';
import { cycleGraph } from '../graphs/families';
import type { Graph } from '../graphs/graph';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import { trainSteps, type TrainRun } from '../pipeline/train';

const config = configFromJson(
  { data: { trainSize: 24, testSize: 4, familyParams: { minNodes: 4, maxNodes: 7 } }, model: { nodeSize: 6 }, train: { epochs: 2, batchSize: 5, lr: 0.01, lrFinalFraction: 0.1, checkpointEvery: 3 } },
  'test',
);
let data: Dataset;
t.before(async () => {
  data = await loadDataset(config, 0);
});
const run = (over: Partial<TrainRun>): TrainRun => ({
  config, data, checkpointFile: null, resume: null, runner: inProcessRunner(config), shards: 1, stopAtStep: null, stopRequested: () => false, ...over,
});


t.test('k steps, save, resume, k more equals 2k steps', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-resume-'));
  const file = join(dir, 'checkpoint.json');
  const straight = await trainSteps(run({}), () => undefined);
  t.equal(straight.checkpoint.step, 10, '2 epochs of 24 graphs in batches of 5 are 10 steps');
  t.match(straight, { completed: true, stopped: null });
  const first = await trainSteps(run({ checkpointFile: file, stopAtStep: 5 }), () => undefined);
  t.equal(first.checkpoint.step, 5);
  t.match(first, { completed: false, stopped: 'max-steps' }, 'stopAtStep ends the run early, and says so');
  const loaded = loadCheckpoint(file);
  t.same(Array.from(loaded.params), Array.from(first.checkpoint.params), 'checkpoint round-trips the parameters exactly');
  t.equal(loaded.adam.t, 5, 'and the Adam step count');
  const rest = await trainSteps(run({ checkpointFile: file, resume: loaded }), () => undefined);
  t.equal(rest.checkpoint.step, 10);
  t.match(rest, { completed: true, stopped: null });
  t.same(Array.from(rest.checkpoint.params), Array.from(straight.checkpoint.params), 'resumed parameters equal the uninterrupted run exactly');
  t.equal(rest.checkpoint.graphsSeen, straight.checkpoint.graphsSeen);
});

t.test('stopRequested finishes the step in flight and checkpoints', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-stop-'));
  const file = join(dir, 'checkpoint.json');
  let steps = 0;
  const r = await trainSteps(run({ checkpointFile: file, stopRequested: () => steps >= 4 }), () => steps++);
  t.match(r, { completed: false, stopped: 'signal' });
  t.equal(r.checkpoint.step, 4);
  t.equal(loadCheckpoint(file).step, 4, 'the checkpoint on disk is the stopped step');
});

t.test('a checkpoint is also written every train.checkpointSeconds, whatever the step count', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-timed-'));
  const onDisk = async (checkpointSeconds: number): Promise<Array<number | null>> => {
    const file = join(dir, `checkpoint-${checkpointSeconds}.json`);
    const timed = configFromJson({ ...config, train: { ...config.train, checkpointEvery: 1000, checkpointSeconds } }, 'timed');
    const seen: Array<number | null> = [];
    await trainSteps(run({ config: timed, checkpointFile: file, stopAtStep: 3 }), () => seen.push(existsSync(file) ? loadCheckpoint(file).step : null));
    t.equal(loadCheckpoint(file).step, 3, 'and one at the end');
    return seen;
  };
  t.same(await onDisk(1e-6), [1, 2, 3], 'a microsecond: the checkpoint on disk after every step');
  t.same(await onDisk(1e6), [null, null, null], '11 days: none before the end');
});

t.test('a mismatched or damaged checkpoint is refused with the reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-ckpt-'));
  const file = join(dir, 'checkpoint.json');
  const r = await trainSteps(run({ checkpointFile: file, stopAtStep: 1 }), () => undefined);
  const other = configFromJson({ model: { nodeSize: 16 } }, 'other.json');
  t.throws(() => assertCheckpointMatches(file, r.checkpoint, other, 'other.json'), /checkpoint\.json: was trained with model .*"nodeSize":6.*other\.json asks for model .*"nodeSize":16/);
  const json = JSON.parse(readFileSync(file, 'utf8'));
  json.params[3].shape = [99];
  writeFileSync(file, JSON.stringify(json));
  t.throws(() => loadCheckpoint(file), new CheckpointError(file, `parameter 3 is ${json.params[3].name} [99], the model expects ${json.params[3].name} [${r.checkpoint.config.model.nodeSize * 2}]`));
  writeFileSync(file, '{"format": "something else"}');
  t.throws(() => loadCheckpoint(file), /not a dgmg-pipe checkpoint/);
  saveCheckpoint(file, r.checkpoint);
  t.equal(loadCheckpoint(file).step, 1, 'a good checkpoint loads');
});

t.test('config errors name the source and the key', async (t) => {
  t.throws(() => configFromJson({ train: { lrr: 1 } }, 'my.json'), new ConfigError('my.json', 'unknown key train.lrr (known: train.epochs, train.batchSize, train.shards, train.lr, train.lrFinalFraction, train.beta1, train.beta2, train.eps, train.clipNorm, train.seed, train.biasInit, train.checkpointEvery, train.checkpointSeconds, train.taskTimeoutSeconds)'));
  t.throws(() => configFromJson({ train: { lr: '0.1' } }, 'my.json'), /my\.json: train\.lr must be a number/);
  for (const shards of [-1, 2.5, 65_537]) {
    t.throws(() => configFromJson({ train: { shards } }, 'my.json'), new ConfigError('my.json', `train.shards must be an integer from 0 to 65536 (0: one per worker), got ${shards}`));
  }
  t.throws(() => configFromJson({ data: { family: 'blobs' } }, 'my.json'), /my\.json: data: unknown graph family "blobs"/);
  t.throws(() => configFromJson({ data: { order: 'sideways' } }, 'my.json'), /data\.order must be one of natural, bfs, dfs, ring-dfs, path, random, random-dfs, random-ring-dfs, got sideways/);
});

t.test('an order drawn per visit gives a graph new sequences in each epoch, the same ones for the same seed', async (t) => {
  // not cycles: every DFS of a cycle gives one sequence
  const graphs: Graph[] = [
    { numNodes: 6, edges: [[0, 1], [0, 2], [0, 3], [3, 4], [4, 5]] },
    { numNodes: 5, edges: [[0, 1], [1, 2], [2, 0], [2, 3], [3, 4]] },
  ];
  const types = typeCounts(configFromJson({}, 'cfg.json').model);
  const epochs = (order: 'random-dfs' | 'dfs', seed: number): string[] =>
    [...new BatchSource(graphs, order, 2, seed, types).batches(0, 6)].map((b) => b.sequences.map((s) => s.join()).sort().join('|'));
  const drawn = epochs('random-dfs', 1);
  t.same(epochs('random-dfs', 1), drawn, 'reproducible from the seed');
  t.ok(new Set(drawn).size > 1, 'epochs differ');
  t.same(new Set(epochs('dfs', 1)).size, 1, 'a fixed order repeats');
  const fixed = new Set([graphSequence(graphs[0], 'dfs', types).join(), graphSequence(graphs[1], 'dfs', types).join()]);
  t.ok(drawn.some((e) => e.split('|').some((s) => !fixed.has(s))), 'drawn sequences are not the canonical dfs ones');
});

t.test('shards are contiguous, cover the batch, are never empty and carry nearly equal work', async (t) => {
  const batch = Array.from({ length: 10 }, (_, i) => i);
  const one = (): number => 1;
  t.same(splitShards(batch, 3, one).map((s) => s.length).sort(), [3, 3, 4], 'work 1 each: sizes differ by at most one');
  t.same(splitShards(batch, 1, one), [batch]);
  t.same(splitShards([1, 2], 4, one), [[1], [2]], 'never an empty shard');
  t.same(splitShards([100, 1, 1, 1], 2, (x) => x), [[100], [1, 1, 1]], 'one heavy item: a shard of its own');
  t.same(splitShards([1, 1, 1, 100], 3, (x) => x), [[1, 1], [1], [100]], 'the heavy item last still leaves no shard empty');
  const rng = new Rng(5);
  for (let trial = 0; trial < 200; trial++) {
    const items = Array.from({ length: rng.int(1, 60) }, () => rng.int(1, 400));
    const n = rng.int(1, 8);
    const shards = splitShards(items, n, (x) => x);
    if (shards.flat().join() !== items.join() || shards.some((s) => s.length === 0) || shards.length !== Math.min(n, items.length)) {
      t.fail(`${items.length} items in ${n}: the shards do not cover the batch in order, or one is empty`);
      return;
    }
    if (items.length >= 4 * n) {
      const sums = shards.map((s) => s.reduce((a, b) => a + b, 0));
      const share = items.reduce((a, b) => a + b, 0) / shards.length;
      const worst = Math.max(...sums.map((x) => Math.abs(x - share)));
      if (worst > Math.max(...items)) {
        t.fail(`${items.length} items in ${n}: a shard is ${worst} from its share ${share}, more than the largest item`);
        return;
      }
    }
  }
  t.pass('200 random batches: contiguous, complete, none empty, every shard within one item of its share');
});

t.test('sequenceWork counts the node rows a sequence costs the teacher', async (t) => {
  // a path 0-1-2: three nodes, two edges; rows embedded 1 + 2 + 3, propagated (rounds) over 2 and 3 nodes
  const seq = encodeGraph({ numNodes: 3, edges: [[0, 1], [1, 2]] });
  const cfg = { ...config.model, propRounds: 2 };
  t.equal(sequenceWork(cfg, seq), 1 + 2 + 3 + 3 * 2 + 3 * 3);
  t.equal(sequenceWork(cfg, encodeGraph({ numNodes: 0, edges: [] })), 0, 'the empty graph costs nothing');
  const cycle = (v: number): number => sequenceWork(config.model, encodeGraph(cycleGraph(v)));
  t.ok(cycle(20) > 3 * cycle(10), 'work grows faster than the node count (each event touches the whole graph)');
});

t.test('every shipped config loads and names a known family', async (t) => {
  const dir = join(__dirname, '..', '..', 'configs');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  t.ok(files.length >= 7, `${files.length} configs`);
  for (const f of files) {
    const c = loadConfig(join(dir, f));
    if (!c.data.file) {
      t.ok((await loadDataset(configFromJson({ ...c, data: { ...c.data, trainSize: 3, testSize: 1 } }, f), 0)).train.length === 3, `${f} loads and generates its family`);
    } else if (existsSync(c.data.file)) {
      // configs/molecules.json reads Debian's rdkit-data, which the suite must not need
      t.ok((await loadDataset(c, 0)).train.length > 0, `${f} loads its file ${c.data.file}`);
    } else t.comment(`${f}: ${c.data.file} is not installed here; only the config was checked`);
  }
});

t.test('baseRate bias init starts the stop logits at the data\'s stop rates, nothing else changes', async (t) => {
  const graphs = [{ numNodes: 3, edges: [[0, 1], [1, 2]] as const }, { numNodes: 1, edges: [] }];
  const rates = stopRates(graphs);
  t.same(rates, { addNode: 2 / 6, addEdge: 4 / 6, empty: 1e-4, nodeTypes: [1], edgeTypes: [1] }, '2 stops of 6 add-node decisions; 4 "no more" of 6 add-edge decisions; no empty graph (clamped); untyped: all type 0');
  t.equal(stopRates([...graphs, { numNodes: 0, edges: [] }]).empty, 1 / 3);
  const layout = paramLayout(config.model);
  const plain = initParams(layout, 3);
  const based = initParams(layout, 3, rates);
  const at = (name: string): number => layout.offsets[layout.specs.findIndex((s) => s.name === name)];
  t.ok(Math.abs(based[at('addNode.stop.b')] - Math.log(2 / 4)) < 1e-6);
  t.ok(Math.abs(based[at('addEdge.stop.b')] - Math.log(4 / 2)) < 1e-6);
  // the first add-node decision reads embed.empty: its logit starts at the logit of the empty share
  const n2 = 2 * config.model.nodeSize;
  let first = based[at('addNode.stop.b')];
  for (let k = 0; k < n2; k++) first += based[at('addNode.stop.w') + k] * based[at('embed.empty') + k];
  t.ok(Math.abs(first - Math.log(1e-4 / (1 - 1e-4))) < 1e-4, `first add-node logit ${first}`);
  const differ = Array.from(plain).map((v, i) => (v !== based[i] ? i : -1)).filter((i) => i >= 0);
  const emptyRows = Array.from({ length: n2 }, (_, k) => at('embed.empty') + k);
  t.same(differ, [at('addNode.stop.b'), at('addEdge.stop.b'), ...emptyRows].sort((a, b) => a - b), 'only the two biases and embed.empty differ');
  t.throws(() => configFromJson({ train: { biasInit: 'zeros' } }, 'c.json'), /train\.biasInit must be one of normal, baseRate/);
});
