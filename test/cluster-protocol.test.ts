import t from 'tap';
import { UNTYPED } from '../graphs/graph';
import { decodeDecisions, encodeGraph } from '../graphs/sequence';
import { paramLayout } from '../model/params';
import {
  CLUSTER_FORMAT,
  decodeGradientsBlob,
  decodeGraphsBlob,
  decodeParamsBlob,
  decodeShardBlob,
  encodeGradientsBlob,
  encodeGraphsBlob,
  encodeParamsBlob,
  encodeShardBlob,
  parseTask,
  redisOptions,
  type TrainShardTask,
} from '../actors/cluster-protocol';

/** `b` copied to a Buffer starting at an odd byte offset of a larger one, as ioredis may hand it over. */
function misaligned(b: Buffer): Buffer {
  const big = Buffer.alloc(b.length + 3);
  b.copy(big, 1);
  return big.subarray(1, 1 + b.length);
}

const model = { nodeSize: 16, propRounds: 2 };
const total = paramLayout(model).total;
const run = '0123456789abcdef';
const cycle = (n: number): number[] => encodeGraph({ numNodes: n, edges: Array.from({ length: n }, (_, i) => [i, (i + 1) % n] as [number, number]) });
const task: TrainShardTask = { format: CLUSTER_FORMAT, kind: 'train', run, model, version: 7, shard: 1, shards: 3, graphs: 2 };

t.test('blobs round-trip exactly, even from a misaligned Buffer', async (t) => {
  const params = Float32Array.from({ length: total }, (_, i) => Math.sin(i) * 1e-3);
  t.same(Array.from(decodeParamsBlob(misaligned(encodeParamsBlob(7, params)), 7, total, 'p')), Array.from(params));
  const seqs = [cycle(5), cycle(9)];
  t.same(decodeShardBlob(misaligned(encodeShardBlob(7, 1, seqs)), task, 's'), seqs);
  const logLik = Float32Array.of(-1.5, -2.25);
  const grad = Float32Array.from({ length: total }, (_, i) => i / 7);
  const g = decodeGradientsBlob(misaligned(encodeGradientsBlob(7, 1, { logLik, gradSum: grad, gradExponent: 301 })), 7, 1, 2, total, 'g');
  t.same(Array.from(g.logLik), Array.from(logLik));
  t.same(Array.from(g.gradSum), Array.from(grad));
  t.equal(g.gradExponent, 301, 'the gradient scale travels with it');
  const graphs = [{ numNodes: 3, edges: [[0, 1], [2, 1]] as Array<[number, number]> }, { numNodes: 0, edges: [] }];
  t.same(decodeGraphsBlob(misaligned(encodeGraphsBlob(100, graphs)), 100, 2, 25, UNTYPED, 'c'), graphs);
  const typed = [
    { numNodes: 3, edges: [[0, 1], [2, 1]] as Array<[number, number]>, nodeTypes: [2, 0, 1], edgeTypes: [1, 0] },
    { numNodes: 0, edges: [], nodeTypes: [], edgeTypes: [] },
  ];
  t.same(decodeGraphsBlob(misaligned(encodeGraphsBlob(100, typed)), 100, 2, 25, { nodeTypes: 3, edgeTypes: 2 }, 'c'), typed, 'typed graphs keep their types');
  t.throws(() => decodeGraphsBlob(encodeGraphsBlob(100, typed), 100, 2, 25, { nodeTypes: 2, edgeTypes: 2 }, 'c'), /c: a node type outside the model's 0\.\.1/);
  t.throws(() => decodeGraphsBlob(encodeGraphsBlob(100, typed), 100, 2, 25, { nodeTypes: 3, edgeTypes: 1 }, 'c'), /c: an edge type outside the model's 0\.\.0/);
});

t.test('a blob of another kind, format, version, shard or model shape is refused with the reason', async (t) => {
  const params = new Float32Array(total);
  const blob = encodeParamsBlob(7, params);
  t.throws(() => decodeParamsBlob(blob, 8, total, 'task parameters'), /task parameters: parameters of version 7, the task names version 8/);
  t.throws(() => decodeParamsBlob(encodeParamsBlob(7, new Float32Array(100)), 7, total, 'task parameters'), new RegExp(`100 parameters, the task's model has ${total} \\(another model shape\\?\\)`));
  const other = Buffer.from(blob);
  other.writeUInt32LE(CLUSTER_FORMAT + 1, 4);
  t.throws(() => decodeParamsBlob(other, 7, total, 'p'), new RegExp(`blob format ${CLUSTER_FORMAT + 1}, this side speaks format ${CLUSTER_FORMAT}`));
  const text = Buffer.from(JSON.stringify({ params: [1, 2, 3] }).padEnd(64));
  t.throws(() => decodeParamsBlob(text, 7, total, 'p'), /not a dgmg-pipe blob/);
  t.throws(() => decodeParamsBlob(blob.subarray(0, blob.length - 4), 7, total, 'p'), /payload words where the header promises/);
  t.throws(() => decodeParamsBlob(blob.subarray(0, 30), 7, total, 'p'), /30 bytes is not a parameters blob/);
  t.throws(() => decodeGradientsBlob(blob, 7, 0, 1, total, 'g'), /a parameters blob where gradients were expected/);
  const grad = encodeGradientsBlob(7, 1, { logLik: new Float32Array(2), gradSum: new Float32Array(total), gradExponent: 0 });
  t.throws(() => decodeGradientsBlob(grad, 6, 1, 2, total, 'answer'), /answer: answers step 7 shard 1, expected step 6 shard 1/);
  t.throws(() => decodeShardBlob(encodeShardBlob(7, 2, [cycle(5), cycle(6)]), task, 's'), /shard 2 of version 7 with 2 graphs, the task names shard 1/);
});

t.test('a shard with a malformed sequence or bad offsets is refused before any computation', async (t) => {
  const bad = [cycle(5), [0, 0, 5, 1]];
  t.throws(() => decodeDecisions(bad[1]));
  t.throws(() => decodeShardBlob(encodeShardBlob(7, 1, bad), task, 'task shard'), /task shard: sequence 1 is malformed/);
  const blob = encodeShardBlob(7, 1, [cycle(5), cycle(6)]);
  blob.writeInt32LE(-4, 32 + 4); // offsets[1]
  t.throws(() => decodeShardBlob(blob, task, 'task shard'), /offsets are not increasing/);
});

t.test('sampled graphs outside their bounds are refused', async (t) => {
  t.throws(() => decodeGraphsBlob(encodeGraphsBlob(0, [{ numNodes: 30, edges: [] }]), 0, 1, 25, UNTYPED, 'c'), /graph 0 has 30 nodes, v_max is 25/);
  t.throws(() => decodeGraphsBlob(encodeGraphsBlob(0, [{ numNodes: 3, edges: [[0, 3]] }]), 0, 1, 25, UNTYPED, 'c'), /edge \[0, 3\] outside its 3 nodes/);
  t.throws(() => decodeGraphsBlob(encodeGraphsBlob(0, [{ numNodes: 3, edges: [] }]), 100, 1, 25, UNTYPED, 'c'), /graphs 0..0, expected 100..100/);
});

t.test('task descriptions are checked field by field; anything else is refused with a clear message', async (t) => {
  t.same(parseTask(JSON.parse(JSON.stringify(task))), task);
  const sample = { format: CLUSTER_FORMAT, kind: 'sample', run, model, seed: 3, from: 100, count: 100, vMax: 25 };
  t.same(parseTask(sample), sample);
  const typedModel = { ...model, nodeTypes: ['C', 'N'], edgeTypes: ['single', 'double'] };
  t.same(parseTask({ ...sample, model: typedModel }), { ...sample, model: typedModel }, 'type names travel with the model');
  const constrained = { ...model, constraints: ['connected', 'planar'] };
  t.same(parseTask({ ...sample, model: constrained }), { ...sample, model: constrained }, 'structural constraints travel with the model');
  t.throws(() => parseTask({ ...sample, model: { ...model, constraints: ['connected', 'x'] } }), /task model field constraints: model\.constraints: unknown constraint 'x'; known: connected, planar/);
  t.throws(() => parseTask({ ...sample, model: { ...model, constraints: 'planar' } }), /task model field constraints: not a list of constraint names/);
  t.throws(() => parseTask({ ...sample, model: { ...model, nodeTypes: ['C', 7] } }), /task model field nodeTypes must be a list of at most 1024 type names/);
  const counted = { ...model, nodeCountInput: 64 };
  t.same(parseTask({ ...task, model: counted }), { ...task, model: counted }, 'model.nodeCountInput travels with the model');
  t.throws(() => parseTask({ ...task, model: { ...model, nodeCountInput: 5000 } }), /task field nodeCountInput must be an integer from 0 to 4096, got 5000/);
  t.throws(() => parseTask({ ...task, model: { ...model, nodeCountInput: 'all' } }), /task field nodeCountInput must be an integer from 0 to 4096, got "all"/);
  const planned = { ...model, plannedSize: 50 };
  t.same(parseTask({ ...task, model: planned }), { ...task, model: planned }, 'model.plannedSize travels with the model');
  t.throws(() => parseTask({ ...task, model: { ...model, plannedSize: -1 } }), /task field plannedSize must be an integer from 0 to 4096, got -1/);
  t.throws(() => parseTask({ ...task, format: CLUSTER_FORMAT + 1 }), new RegExp(`task format ${CLUSTER_FORMAT + 1}, this worker speaks format ${CLUSTER_FORMAT}`));
  t.throws(() => parseTask({ ...task, model: { ...model, require: 'child_process' } }), /task model has unknown fields require/);
  t.throws(() => parseTask({ ...task, model: { nodeSize: 1e9, propRounds: 2 } }), /nodeSize must be an integer from 1 to 512/);
  t.throws(() => parseTask({ ...task, model: 'configs/evil.json' }), /task model must be an object/);
  t.throws(() => parseTask({ ...task, run: '../../etc' }), /run id must be 16 hex digits/);
  t.throws(() => parseTask({ ...task, shard: 3 }), /shard must be an integer from 0 to 2/);
  t.throws(() => parseTask({ ...task, extra: 1 }), /train task has unknown fields extra/);
  t.throws(() => parseTask({ ...task, kind: 'eval' }), /unknown task kind "eval"/);
  t.throws(() => parseTask([task]), /task is not an object/);
  t.throws(() => parseTask({ ...sample, count: 0 }), /count must be an integer from 1/);
});

t.test('Redis URLs: user, password, database and TLS are taken from the URL', async (t) => {
  t.match(redisOptions({ url: 'redis://alice:p%40ss@10.0.0.5:6380/2', caFile: null }), { host: '10.0.0.5', port: 6380, db: 2, username: 'alice', password: 'p@ss', maxRetriesPerRequest: null });
  t.match(redisOptions({ url: 'redis://:secret@localhost', caFile: null }), { host: 'localhost', port: 6379, password: 'secret' });
  t.notOk('tls' in redisOptions({ url: 'redis://localhost', caFile: null }));
  t.match(redisOptions({ url: 'rediss://localhost:6390', caFile: null }), { tls: { servername: 'localhost' } });
  t.throws(() => redisOptions({ url: 'http://localhost', caFile: null }), /--redis must be a redis:\/\/ or rediss:\/\/ URL/);
  t.throws(() => redisOptions({ url: 'redis://localhost', caFile: '/x.pem' }), /--redis-ca is for TLS: give a rediss:\/\/ URL/);
});
