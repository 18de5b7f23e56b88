import t from 'tap';
import type { BuiltPlugins, Test } from '@tapjs/test';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatJsonlLine, parseGraph6File, parseJsonl } from '../graphs/formats';
import type { Graph } from '../graphs/graph';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { mountTmpfs, noTmpfs } from './tmpfs';
import { BIN, cliIn } from './cli-run';

/**
 * Issue 7: every bad input through the shipped CLI ends with one line naming the file (and line)
 * and the reason, a non-zero exit, and nothing lost.
 */

const dir = mkdtempSync(join(tmpdir(), 'dgmg-cli-errors-'));

const cli = cliIn(dir);

/** The run failed with exactly one line on stderr, `dgmg-pipe: ` and then `message`. */
function failsWith(t: Test & BuiltPlugins, r: { status: number | null; stderr: string }, message: RegExp | string, what: string): void {
  t.not(r.status, 0, `${what}: non-zero exit`);
  t.not(r.status, null, `${what}: exits rather than being killed`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, `${what}: one line on stderr, got ${JSON.stringify(r.stderr.slice(0, 400))}`);
  t.match(lines[0] ?? '', typeof message === 'string' ? `dgmg-pipe: ${message}` : message, what);
}

let dirs = 0;
const freshDir = (): string => {
  const d = join(dir, `d${dirs++}`);
  mkdirSync(d);
  return d;
};

/** A tmpfs mounted on a fresh folder (tests that call this skip on `noTmpfs`; pipeline-checkpoint.test covers a full disk through /dev/full). */
const tmpfs = (t: Test & BuiltPlugins, options: string): string => mountTmpfs(t, freshDir(), options);

const tiny = join(dir, 'tiny.json');
writeFileSync(
  tiny,
  JSON.stringify({
    data: { trainSize: 20, testSize: 4, familyParams: { minNodes: 4, maxNodes: 6 } },
    model: { nodeSize: 16, propRounds: 2 },
    train: { epochs: 1, batchSize: 5, checkpointEvery: 2 },
    sample: { vMax: 8 },
  }),
);

t.test('a full disk while checkpointing stops the run with the file and ENOSPC; the previous checkpoint survives byte for byte', { skip: noTmpfs }, async (t) => {
  // The checkpoint of step 2 of the same run, written where there is room.
  const reference = join(freshDir(), 'run');
  let r = cli('train', '--config', tiny, '--out', reference, '--workers', '1', '--max-steps', '2', '--quiet', '--json');
  t.equal(r.status, 0, r.stderr);
  const good = readFileSync(join(reference, 'checkpoint.json'));
  // Room for one checkpoint and the metrics, not for the temporary copy of the second one.
  const disk = tmpfs(t, `size=${Math.ceil((1.5 * good.length) / 1024)}k`);
  const out = join(disk, 'run');
  r = cli('train', '--config', tiny, '--out', out, '--workers', '1', '--quiet', '--json');
  failsWith(t, r, `${join(out, 'checkpoint.json')}: could not write checkpoint: ENOSPC`, 'train');
  t.equal(r.stdout, '', 'no summary claims the run completed');
  t.ok(readFileSync(join(out, 'checkpoint.json')).equals(good), 'the checkpoint of step 2 is byte-identical to the reference');
  t.equal(loadCheckpoint(join(out, 'checkpoint.json')).step, 2);
  t.same(readdirSync(out).filter((f) => f.includes('.tmp-')), [], 'no temporary file is left');
  r = cli('sample', '--model', join(out, 'checkpoint.json'), '--n', '5', '--out', join(dir, 'after-full.jsonl'), '--workers', '1', '--quiet');
  t.equal(r.status, 0, `the surviving checkpoint samples: ${r.stderr}`);
});

// A read-only folder: chmod is enough for a user; root ignores it, so root gets a read-only mount.
const isRoot = process.getuid?.() === 0;

t.test('sample --out into a read-only folder: one line, before any sampling, no file left', { skip: isRoot && noTmpfs }, async (t) => {
  let ro: string;
  if (isRoot) ro = tmpfs(t, 'ro,size=64k');
  else {
    ro = freshDir();
    chmodSync(ro, 0o555);
    t.teardown(() => chmodSync(ro, 0o755));
  }
  const out = join(ro, 'graphs.jsonl');
  const r = cli('sample', '--n', '20', '--out', out, '--workers', '1', '--quiet');
  failsWith(t, r, new RegExp(`^dgmg-pipe: ${out}: could not write JSONL graphs: (EACCES|EROFS)`), 'read-only folder');
  t.same(readdirSync(ro), [], 'nothing written');
});

t.test('a reader that closes stdout early (| head) ends the command quietly with the status SIGPIPE gives, no stack', async (t) => {
  // `true` exits at once, so the report that eval writes after sampling meets a closed pipe
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" eval --model models/cycles.json -n 20 --quiet | true; echo "status \${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
  t.equal(r.stderr, 'status 141\n', 'nothing on stderr but the status: 128 + SIGPIPE');
});

t.test('sample --out under a file: one line, before any sampling', async (t) => {
  const plain = join(freshDir(), 'plain');
  writeFileSync(plain, '');
  const r = cli('sample', '--n', '20', '--out', join(plain, 'graphs.jsonl'), '--workers', '1', '--quiet');
  failsWith(t, r, new RegExp(`^dgmg-pipe: ${plain}/graphs.jsonl: could not write JSONL graphs: (ENOTDIR|EEXIST)`), 'a folder that is a file');
});

t.test('sample onto a disk that fills up midway: ENOSPC, and no partial file', { skip: noTmpfs }, async (t) => {
  const disk = tmpfs(t, 'size=64k');
  const out = join(disk, 'graphs.jsonl');
  const r = cli('sample', '--n', '2000', '--out', out, '--workers', '1', '--quiet');
  failsWith(t, r, `${out}: could not write JSONL graphs: ENOSPC`, 'full disk');
  t.same(readdirSync(disk), [], 'neither the file nor its temporary file is left');
});

t.test('sample --out x.g6 writes graph6, the same graphs as JSONL; other extensions are refused', async (t) => {
  const d = freshDir();
  const asJsonl = join(d, 'g.jsonl');
  const asG6 = join(d, 'g.g6');
  for (const out of [asJsonl, asG6]) {
    const r = cli('sample', '--n', '150', '--seed', '4', '--out', out, '--workers', '1', '--quiet');
    t.equal(r.status, 0, r.stderr);
  }
  const text = readFileSync(asG6, 'latin1');
  t.notMatch(text, /[{"]/, 'no JSON in the .g6 file');
  const edgeSet = (g: Graph): string[] => g.edges.map(([u, v]) => `${Math.min(u, v)}-${Math.max(u, v)}`).sort();
  const fromG6 = parseGraph6File(text, asG6);
  const fromJsonl = parseJsonl(readFileSync(asJsonl, 'utf8'), asJsonl);
  t.equal(fromG6.length, 150);
  t.same(fromG6.map((g) => [g.numNodes, edgeSet(g)]), fromJsonl.map((g) => [g.numNodes, edgeSet(g)]), 'the same labelled graphs');
  const r = cli('sample', '--n', '20', '--out', join(d, 'g.txt'), '--workers', '1', '--quiet');
  failsWith(t, r, `${join(d, 'g.txt')}: unknown graph file type ".txt": use .jsonl (JSON lines) or .g6 (graph6)`, 'unknown extension');
  t.same(readdirSync(d).sort(), ['g.g6', 'g.jsonl'], 'nothing written for the refused name');
});

t.test('a JSONL line nested 5,000 deep: the file, the line and the reason', async (t) => {
  const data = join(dir, 'deep.jsonl');
  writeFileSync(data, `${formatJsonlLine({ numNodes: 3, edges: [[0, 1]] })}\n{"num_nodes": 3, "edges": ${'['.repeat(5000)}${']'.repeat(5000)}}\n`);
  const r = cli('train', '--config', tiny, '--data', data, '--out', freshDir(), '--workers', '1', '--quiet');
  failsWith(t, r, `${data}:2: nested more than 3 deep at column 29`, 'deep line');
});

t.test('damaged checkpoints: the file and the field', async (t) => {
  const model = join(freshDir(), 'run');
  let r = cli('train', '--config', tiny, '--out', model, '--workers', '1', '--max-steps', '1', '--quiet');
  t.equal(r.status, 0, r.stderr);
  const good = JSON.parse(readFileSync(join(model, 'checkpoint.json'), 'utf8')) as Record<string, unknown>;
  const cases: Array<[string, string, string]> = [
    ['null', 'null', 'not a dgmg-pipe checkpoint (a JSON null, expected an object)'],
    ['adam null', JSON.stringify({ ...good, adam: null }), 'adam must be an object {"t", "m", "v"}, got null'],
    ['step a string', JSON.stringify({ ...good, step: 'one' }), 'step must be an integer >= 0, got "one"'],
    ['graphsSeen missing', JSON.stringify({ ...good, graphsSeen: undefined }), 'graphsSeen must be an integer >= 0, got undefined'],
  ];
  for (const [label, text, message] of cases) {
    const file = join(dir, `bad-${label.replace(/ /g, '-')}.json`);
    writeFileSync(file, text);
    r = cli('sample', '--model', file, '--n', '3', '--out', join(dir, 'never.jsonl'), '--workers', '1', '--quiet');
    failsWith(t, r, `${file}: ${message}`, label);
  }
  t.throws(() => statSync(join(dir, 'never.jsonl')), 'no output file for a bad model');
});

t.test('v_max is bounded: 1e12 is refused in a config and on the command line', async (t) => {
  const config = join(dir, 'huge-vmax.json');
  writeFileSync(config, JSON.stringify({ data: { trainSize: 10, testSize: 2 }, train: { epochs: 1 }, sample: { vMax: 1e12 } }));
  failsWith(t, cli('train', '--config', config, '--quiet'), `${config}: sample.vMax must be an integer from 1 to 4096, got 1000000000000`, 'config');
  const deep = join(dir, 'deep-config.json');
  writeFileSync(deep, `{"train": {"lr": ${'['.repeat(5000)}${']'.repeat(5000)}}}`);
  failsWith(t, cli('train', '--config', deep, '--quiet'), `${deep}: not a run config: nested more than 3 deep at offset 19`, 'deep config');
  failsWith(t, cli('sample', '--n', '3', '--v-max', '1e12', '--out', join(dir, 'never.jsonl'), '--quiet'), '--v-max must be an integer from 1 to 4096, got "1000000000000"', 'flag');
  const r = cli('sample', '--n', '3', '--v-max', '4096', '--out', join(dir, 'vmax.jsonl'), '--workers', '1', '--quiet');
  t.equal(r.status, 0, `the bound itself is allowed: ${r.stderr}`);
});
