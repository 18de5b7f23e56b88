import t from 'tap';
import type { BuiltPlugins, Test } from '@tapjs/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatGraph6 } from '../graphs/formats';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { haveRedis, runCli, startRedis, startWorkers, stopWorkers } from '../bench/redis-server';

/**
 * The CLI at the edge of the machine and of its input: never more threads than cores or tasks,
 * no run overwritten unasked, integer flags checked, `completed` meaning the config's run
 * finished, input echoed escaped, a byte-order mark accepted, errors naming lines, a file that is
 * not text refused.
 */

const BIN = resolve(__dirname, '..', 'bin', 'dgmg-pipe.js');
const dir = mkdtempSync(join(tmpdir(), 'dgmg-cli-limits-'));
const cores = availableParallelism();

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir, timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The run failed with exactly one line on stderr: `dgmg-pipe: ` and then `message`. */
function failsWith(t: Test & BuiltPlugins, r: Run, message: string, what: string): void {
  t.equal(r.status, 1, `${what}: exit 1`);
  t.equal(r.stderr, `dgmg-pipe: ${message}\n`, `${what}: one line`);
  t.equal(r.stdout, '', `${what}: no report`);
}

const file = (name: string, content: string | Buffer): string => {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
};

/** 1 epoch of 20 graphs in batches of 5: 4 steps. */
const tiny = file(
  'tiny.json',
  JSON.stringify({
    data: { trainSize: 20, testSize: 4, familyParams: { minNodes: 4, maxNodes: 6 } },
    model: { nodeSize: 16, propRounds: 2 },
    train: { epochs: 1, batchSize: 5, checkpointEvery: 2 },
    sample: { vMax: 8 },
  }),
);
const BOM = '\ufeff';

t.test('sample: never more threads than chunks of 100 graphs or than cores; above the cores, one line says so', async (t) => {
  const out = join(dir, 'many.jsonl');
  let r = cli('sample', '--n', '100', '--workers', '1000', '--out', out, '--quiet', '--json');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '', '100 graphs are one chunk: one thread, nothing to warn about');
  t.match(JSON.parse(r.stdout), { graphs: 100, workers: 1 });
  const one = readFileSync(out, 'utf8');
  const chunks = cores + 1;
  r = cli('sample', '--n', String(100 * chunks), '--workers', '1000', '--out', out, '--quiet', '--json');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, `dgmg-pipe: --workers 1000 is more than the ${cores} cores here; using ${cores} threads (more would only take memory)\n`);
  t.match(JSON.parse(r.stdout), { graphs: 100 * chunks, workers: cores });
  t.equal(readFileSync(out, 'utf8').split('\n').slice(0, 100).join('\n'), one.trimEnd(), 'the same first 100 graphs');
  failsWith(t, cli('sample', '--n', '5', '--workers', '0', '--out', out), '--workers must be a positive integer, got "0"', '--workers 0');
  failsWith(t, cli('sample', '--n', '5', '--workers', 'many', '--out', out), '--workers must be a positive integer, got "many"', '--workers many');
});

t.test('train: --workers shards every batch as asked, on at most as many threads as cores', async (t) => {
  // Batches of 5 split into at most 5 shards: --workers 1000 and --workers 5 shard alike, so their
  // parameters agree bit for bit, whatever the threads that compute the shards.
  const run = (name: string, workers: string): Run => cli('train', '--config', tiny, '--out', join(dir, name), '--workers', workers, '--quiet', '--json');
  const five = run('w5', '5');
  t.equal(five.status, 0, five.stderr);
  const many = run('w1000', '1000');
  t.equal(many.status, 0, many.stderr);
  // 5 shards at a time need 5 threads at most: a line only where there are fewer cores
  t.equal(many.stderr, cores < 5 ? `dgmg-pipe: --workers 1000 is more than the ${cores} cores here; using ${cores} threads (more would only take memory)\n` : '');
  t.match(JSON.parse(many.stdout), { completed: true, steps: 4, workers: 1000 });
  t.same(Array.from(loadCheckpoint(join(dir, 'w1000', 'checkpoint.json')).params), Array.from(loadCheckpoint(join(dir, 'w5', 'checkpoint.json')).params), 'the same parameters, bit for bit');
});

t.test('train: --shards fixes the shards of every batch, so any --workers gives the same parameters; the checkpoint keeps the count and --resume cuts batches by it', async (t) => {
  const run = (name: string, ...args: string[]): Run => cli('train', '--config', tiny, '--out', join(dir, name), '--quiet', '--json', ...args);
  const params = (name: string): number[] => Array.from(loadCheckpoint(join(dir, name, 'checkpoint.json')).params);
  const inThread = run('s3w1', '--workers', '1', '--shards', '3');
  t.equal(inThread.status, 0, inThread.stderr);
  t.match(JSON.parse(inThread.stdout), { completed: true, workers: 1, shards: 3 });
  const pooled = run('s3w2', '--workers', '2', '--shards', '3');
  t.equal(pooled.status, 0, pooled.stderr);
  t.same(params('s3w2'), params('s3w1'), '3 shards on 2 threads and in this thread: the same parameters, bit for bit');
  t.equal(loadCheckpoint(join(dir, 's3w1', 'checkpoint.json')).config.train.shards, 3, 'the checkpoint keeps the count');
  const oneShard = run('s1w1', '--workers', '1');
  t.equal(oneShard.status, 0, oneShard.stderr);
  t.notSame(params('s1w1'), params('s3w1'), 'one shard rounds its sums otherwise: the count is part of the run');
  // without --shards the first start resolves one per worker (3) and records it; the resumed run on one worker keeps 3
  t.equal(run('w3', '--workers', '3', '--max-steps', '2').status, 0);
  t.equal(loadCheckpoint(join(dir, 'w3', 'checkpoint.json')).config.train.shards, 3);
  const resumed = cli('train', '--resume', join(dir, 'w3'), '--workers', '1', '--quiet', '--json');
  t.equal(resumed.status, 0, resumed.stderr);
  t.match(JSON.parse(resumed.stdout), { completed: true, steps: 4, shards: 3 });
  t.same(params('w3'), params('s3w1'), 'resumed on one worker: the run of 3 shards, bit for bit');
  failsWith(t, cli('train', '--resume', join(dir, 'w3'), '--shards', '2'), `--resume continues ${join(dir, 'w3', 'checkpoint.json')} exactly; only --epochs may change, not shards`, '--shards on --resume');
  failsWith(t, cli('train', '--config', tiny, '--out', join(dir, 'never'), '--shards', '-1'), '--shards must be an integer from 0 to 65536, got "-1"', '--shards -1');
});

t.test('with --redis the workers are remote: no local-cores line, chunks in flight capped by the chunks', { skip: haveRedis() ? false : 'redis-server is not installed (apt-get install redis-server)' }, async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const ws = await startWorkers(1, redis.url);
  try {
    const p = runCli(['sample', '--n', '300', '--workers', '1000', '--out', join(dir, 'remote.jsonl'), '--json', '--quiet', '--redis', redis.url]);
    const { code } = await p.exit;
    t.equal(code, 0, p.stderr());
    t.equal(p.stderr(), '', 'no line about the cores here');
    t.match(JSON.parse(p.stdout()), { graphs: 300, workers: 3 });
  } finally {
    await stopWorkers(ws);
  }
});

t.test('train into a folder that holds a run is refused, naming --resume and --force; --force replaces it', async (t) => {
  const out = join(dir, 'kept');
  let r = cli('train', '--config', tiny, '--out', out, '--workers', '1', '--max-steps', '2', '--quiet', '--json');
  t.equal(r.status, 0, r.stderr);
  const checkpoint = readFileSync(join(out, 'checkpoint.json'));
  const metrics = readFileSync(join(out, 'metrics.jsonl'));
  r = cli('train', '--config', tiny, '--out', out, '--workers', '1', '--quiet', '--json');
  failsWith(t, r, `${out} holds a trained run (${join(out, 'checkpoint.json')}); continue it with --resume ${out}, train elsewhere with --out, or replace it with --force`, 'a second train');
  t.ok(readFileSync(join(out, 'checkpoint.json')).equals(checkpoint), 'the checkpoint is untouched');
  t.ok(readFileSync(join(out, 'metrics.jsonl')).equals(metrics), 'and so are the metrics');
  // the default --out is `run`, in the working folder
  t.equal(cli('train', '--config', tiny, '--workers', '1', '--max-steps', '1', '--quiet').status, 0);
  failsWith(t, cli('train', '--config', tiny, '--workers', '1', '--quiet'), `run holds a trained run (${join('run', 'checkpoint.json')}); continue it with --resume run, train elsewhere with --out, or replace it with --force`, 'a second bare train');
  r = cli('train', '--resume', out, '--workers', '1', '--quiet', '--json');
  t.equal(r.status, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { completed: true, steps: 4 }, '--resume continues it');
  r = cli('train', '--config', tiny, '--out', out, '--workers', '1', '--max-steps', '1', '--force', '--quiet', '--json');
  t.equal(r.status, 0, r.stderr);
  t.equal(loadCheckpoint(join(out, 'checkpoint.json')).step, 1, '--force starts a fresh run in its place');
});

t.test('seeds and step counts are integers in range, else one line naming the flag', async (t) => {
  const out = join(dir, 'seeded.jsonl');
  for (const seed of ['abc', '0.5', '4294967296', '-1', '7x', '']) {
    failsWith(t, cli('sample', '--n', '5', '--seed', seed, '--out', out, '--quiet'), `--seed must be an integer from 0 to 4294967295, got ${JSON.stringify(seed)}`, `sample --seed ${seed}`);
  }
  for (const command of [['train', '--config', tiny, '--out', join(dir, 'never')], ['eval', '--n', '5'], ['draw', '--n', '2'], ['animate']]) {
    failsWith(t, cli(...command, '--seed', '0.5'), '--seed must be an integer from 0 to 4294967295, got "0.5"', `${command[0]} --seed 0.5`);
  }
  const r = cli('sample', '--n', '5', '--seed', '4294967295', '--out', out, '--quiet', '--json');
  t.equal(r.status, 0, `the largest seed is taken: ${r.stderr}`);
  const twice = join(dir, 'seeded-twice.jsonl');
  const again = cli('sample', '--n', '5', '--seed', '7', '--seed', '4294967295', '--out', twice, '--quiet', '--json');
  t.equal(again.status, 0, again.stderr);
  t.equal(readFileSync(twice, 'utf8'), readFileSync(out, 'utf8'), 'a flag given twice takes its last value');
  for (const steps of ['0', '2.5', '-3', 'x']) {
    failsWith(t, cli('train', '--config', tiny, '--out', join(dir, 'never'), '--max-steps', steps), `--max-steps must be a positive integer, got ${JSON.stringify(steps)}`, `--max-steps ${steps}`);
  }
  failsWith(t, cli('train', '--config', tiny, '--out', join(dir, 'never'), '--epochs', '1.5'), '--epochs must be a positive integer, got "1.5"', '--epochs 1.5');
  failsWith(t, cli('sample', '--n', '2.5', '--out', out), '--n must be a positive integer, got "2.5"', '--n 2.5');
  const big = file('big-seed.json', JSON.stringify({ train: { seed: 4294967296 } }));
  failsWith(t, cli('train', '--config', big, '--out', join(dir, 'never')), `${big}: train.seed must be an integer from 0 to 4294967295, got 4294967296`, 'a config seed of 2^32');
});

t.test('completed means the config\'s run finished; a --max-steps stop says stopped: "max-steps" and exits 0', async (t) => {
  const out = join(dir, 'steps');
  let r = cli('train', '--config', tiny, '--out', out, '--workers', '1', '--max-steps', '1', '--quiet', '--json');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '');
  t.match(JSON.parse(r.stdout), { completed: false, stopped: 'max-steps', steps: 1 });
  r = cli('train', '--resume', out, '--workers', '1', '--max-steps', '3', '--quiet');
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^completed +no\nstopped +max-steps\nsteps +3\n/, 'the human summary says so too');
  r = cli('train', '--resume', out, '--workers', '1', '--max-steps', '100', '--quiet', '--json');
  t.equal(r.status, 0, r.stderr);
  const done = JSON.parse(r.stdout) as Record<string, unknown>;
  t.match(done, { completed: true, steps: 4 }, 'a --max-steps beyond the end completes the run');
  t.notOk('stopped' in done, 'and names no stop');
});

t.test('text from input files reaches the terminal escaped', async (t) => {
  const smi = file('escape.smi', 'CCO\nC\u001b]0;pwned\u0007C\u009b2J(\n');
  const r = cli('train', '--data', smi, '--out', join(dir, 'never'), '--quiet');
  t.equal(r.status, 1);
  t.notMatch(r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no control character on stderr');
  t.match(r.stderr, `dgmg-pipe: ${smi}:2: RDKit cannot parse C\\u001b]0;pwned\\u0007C\\u009b2J(`, 'the line, escaped');
  t.equal(r.stderr.split('\n').length, 2, 'one line');
});

t.test('a UTF-8 byte-order mark is accepted in JSONL, graph6, SMILES, CSV and configs', async (t) => {
  const graphs = Array.from({ length: 8 }, (_, i) => ({ numNodes: 3 + (i % 3), edges: [[0, 1], [1, 2]] as Array<[number, number]> }));
  const jsonl = file('bom.jsonl', BOM + graphs.map((g) => `{"num_nodes": ${g.numNodes}, "edges": [[0, 1], [1, 2]]}\n`).join(''));
  const g6 = file('bom.g6', BOM + graphs.map((g) => `${formatGraph6(g)}\n`).join(''));
  const config = file('bom-config.json', BOM + readFileSync(tiny, 'utf8'));
  for (const data of [jsonl, g6]) {
    const r = cli('train', '--config', config, '--data', data, '--out', join(dir, `bom-${data.slice(-3)}`), '--workers', '1', '--max-steps', '1', '--quiet', '--json');
    t.equal(r.status, 0, `${data}: ${r.stderr}`);
    t.match(JSON.parse(r.stdout), { steps: 1 });
  }
  const molecules = ['CCO', 'c1ccccc1', 'CC(=O)O'];
  for (const [name, text] of [['bom.smi', molecules.join('\n')], ['bom.csv', `smiles,name\n${molecules.map((m, i) => `${m},m${i}`).join('\n')}`]]) {
    const r = cli('molecules', 'survey', file(name, `${BOM}${text}\n`), '--json');
    t.equal(r.status, 0, `${name}: ${r.stderr}`);
    t.match(JSON.parse(r.stdout), { molecules: 3 }, `${name}: every molecule read, the first too`);
  }
});

t.test('a graph with more nodes than sample.vMax is named by its line, not its ordinal', async (t) => {
  const small = '{"num_nodes": 3, "edges": [[0, 1]]}';
  // the third graph, on line 5
  const jsonl = file('vmax.jsonl', `${small}\n\n\n${small}\n{"num_nodes": 9, "edges": []}\n${small}\n`);
  failsWith(t, cli('train', '--config', tiny, '--data', jsonl, '--out', join(dir, 'never')), `${jsonl}:5: has 9 nodes, more than sample.vMax = 8; raise sample.vMax in the config`, 'JSONL');
  // molecules: line 1 a header, line 3 skipped as unparsable, line 5 too large (10 heavy atoms)
  const csv = file('vmax.csv', 'smiles\nCCO\nnot-a-smiles\nCCC\nCCCCCCCCCC\nCC\n');
  const config = file('vmax-molecules.json', JSON.stringify({ ...JSON.parse(readFileSync(tiny, 'utf8')), data: { skipInvalid: true, testSize: 1 } }));
  failsWith(t, cli('train', '--config', config, '--data', csv, '--out', join(dir, 'never')), `${csv}:5: has 10 nodes, more than sample.vMax = 8; raise sample.vMax in the config`, 'CSV');
});

t.test('a file that is not text is refused at the line of its first non-text byte', async (t) => {
  // the start of an ELF program such as /bin/ls: 7f 'E' 'L' 'F', class, data, version, then zeros
  const program = file('ls.smi', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x41]));
  failsWith(t, cli('molecules', 'survey', program), `${program}:1: not a text file: a NUL byte at offset 7`, 'a program as .smi');
  const head = '{"num_nodes": 1, "edges": []}\n{"num_nodes": 1, "edges": [], "x": "';
  const latin1 = file('latin1.jsonl', Buffer.concat([Buffer.from(head), Buffer.from([0xe9]), Buffer.from('"}\n')]));
  failsWith(t, cli('train', '--config', tiny, '--data', latin1, '--out', join(dir, 'never')), `${latin1}:2: not UTF-8 text: byte 0xe9 at offset ${head.length} starts no valid character`, 'Latin-1 JSONL');
  const config = file('binary.json', Buffer.from([0x7b, 0x0a, 0x00, 0x7d]));
  failsWith(t, cli('train', '--config', config, '--out', join(dir, 'never')), `${config}:2: not a text file: a NUL byte at offset 2`, 'a config');
});
