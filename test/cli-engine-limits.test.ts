import t from 'tap';
import type { BuiltPlugins, Test } from '@tapjs/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cycleGraph } from '../graphs/families';
import { formatJsonlLine } from '../graphs/formats';
import { MODEL_LIMITS } from '../model/params';
import { MAX_BATCH_SIZE } from '../pipeline/config';

/**
 * Every size a config or checkpoint names is bounded before anything is allocated, and a graph
 * the engine cannot hold is refused before any work: one line naming the file, the key or graph,
 * and the bound; a non-zero exit, promptly (each of these ran out of heap, hung or computed
 * wrong numbers before).
 */

const BIN = resolve(__dirname, '..', 'bin', 'dgmg-pipe.js');
const dir = mkdtempSync(join(tmpdir(), 'dgmg-engine-limits-'));

function cli(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  return { status: r.status, stderr: r.stderr };
}

function failsWith(t: Test & BuiltPlugins, r: { status: number | null; stderr: string }, message: string, what: string): void {
  t.not(r.status, 0, `${what}: non-zero exit`);
  t.not(r.status, null, `${what}: exits rather than being killed`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, `${what}: one line on stderr, got ${JSON.stringify(r.stderr.slice(0, 400))}`);
  t.equal(lines[0], `dgmg-pipe: ${message}`, what);
}

const config = (name: string, json: object): string => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(json));
  return file;
};

t.test('model sizes beyond the bounds are refused naming the key and the bound', async (t) => {
  const cases: Array<[string, object, string]> = [
    ['rounds.json', { model: { propRounds: 1e7 } }, `model.propRounds must be an integer from 1 to ${MODEL_LIMITS.propRounds}, got 10000000`],
    ['huge.json', { model: { nodeSize: 1e6 } }, `model.nodeSize must be an integer from 1 to ${MODEL_LIMITS.nodeSize}, got 1000000`],
    ['wide.json', { model: { nodeSize: 3000 } }, `model.nodeSize must be an integer from 1 to ${MODEL_LIMITS.nodeSize}, got 3000`],
    ['types.json', { model: { edgeTypes: Array.from({ length: 65 }, (_, i) => `b${i}`) } }, `model.edgeTypes may name at most ${MODEL_LIMITS.edgeTypes} types, got 65`],
    ['counts.json', { model: { nodeCountInput: 5000 } }, `model.nodeCountInput must be an integer from 0 to ${MODEL_LIMITS.nodeCountInput}, got 5000`],
    ['batch.json', { train: { batchSize: 1e9 } }, `train.batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got 1000000000`],
  ];
  for (const [name, json, message] of cases) {
    const file = config(name, json);
    failsWith(t, cli('train', '--config', file, '--out', join(dir, `run-${name}`), '--workers', '1', '--quiet'), `${file}: ${message}`, name);
  }
});

t.test('a 2 KB checkpoint naming a model beyond the bounds is refused as --model', async (t) => {
  const file = join(dir, 'crafted.json');
  writeFileSync(file, JSON.stringify({ format: 'dgmg-pipe/checkpoint@1', config: { model: { propRounds: 1e7 } }, step: 0, graphsSeen: 0, params: [], adam: {} }));
  failsWith(t, cli('sample', '--model', file, '--n', '5', '--out', join(dir, 'crafted.jsonl'), '--workers', '1', '--quiet'), `${file} (config): model.propRounds must be an integer from 1 to ${MODEL_LIMITS.propRounds}, got 10000000`, 'sample');
});

t.test('a graph the engine cannot hold is refused with its line before training starts', async (t) => {
  const data = join(dir, 'big.jsonl');
  writeFileSync(data, `${formatJsonlLine(cycleGraph(12))}\n${formatJsonlLine(cycleGraph(3000))}\n${formatJsonlLine(cycleGraph(12))}\n`);
  const file = config('big-cycles.json', { sample: { vMax: 4096 } });
  const r = cli('train', '--config', file, '--data', data, '--out', join(dir, 'run-big'), '--workers', '1', '--quiet');
  t.not(r.status, 0, 'non-zero exit');
  t.match(r.stderr.trim(), new RegExp(`^dgmg-pipe: ${data}:2: a graph of 3000 nodes and 3000 edges needs \\d+\\.\\d\\d GiB of engine memory; the limit is 4\\.00 GiB$`), r.stderr);
});

t.test('a generated graph the engine cannot hold stops the run before any worker computes it', async (t) => {
  const file = config('big-family.json', { data: { family: 'cycles', familyParams: { minNodes: 3000, maxNodes: 3000 }, trainSize: 4, testSize: 1 }, sample: { vMax: 4096 } });
  const r = cli('train', '--config', file, '--out', join(dir, 'run-family'), '--workers', '2', '--quiet');
  t.not(r.status, 0, 'non-zero exit');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, `one line, no retries: ${JSON.stringify(r.stderr.slice(0, 400))}`);
  t.match(lines[0], /^dgmg-pipe: a graph of 3000 nodes and 3000 edges needs \d+\.\d\d GiB of engine memory; the limit is 4\.00 GiB$/);
});
