import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatJsonlLine } from '../graphs/formats';
import type { Graph } from '../graphs/graph';
import { adamState } from '../model/adam';
import { initParams, paramLayout } from '../model/params';
import { AtomicFile, FileWriteError, writeFileAtomic } from '../pipeline/atomic';
import { CheckpointError, loadCheckpoint, saveCheckpoint, type Checkpoint } from '../pipeline/checkpoint';
import { configFromJson } from '../pipeline/config';
import { readGraphFile } from '../pipeline/dataset';
import { writeGraphFile } from '../pipeline/sampling';
import { mountTmpfs, noTmpfs } from './tmpfs';

const root = mkdtempSync(join(tmpdir(), 'dgmg-ckpt-'));
let dirs = 0;
const freshDir = (): string => {
  const d = join(root, `d${dirs++}`);
  mkdirSync(d);
  return d;
};

/** Why the /dev/full tests cannot run here (as their skip reason), or false. */
const noDevFull = existsSync('/dev/full') ? false : 'no /dev/full here; the tmpfs test covers a full disk where mounting is allowed';

/**
 * Makes the temporary file this process would write for `file` a link to /dev/full, where every
 * write fails with ENOSPC: a full disk without mount privileges.
 */
function fullDiskFor(file: string): void {
  symlinkSync('/dev/full', `${file}.tmp-${process.pid}`);
}


const config = configFromJson({ model: { nodeSize: 4, propRounds: 1 } }, 'test');
const layout = paramLayout(config.model);
const checkpoint = (step: number): Checkpoint => ({ config, params: initParams(layout, step), adam: { ...adamState(layout.total), t: step }, step, graphsSeen: 10 * step });

t.test('writeFileAtomic writes the whole file and leaves no temporary file', async (t) => {
  const dir = freshDir();
  const file = join(dir, 'sub', 'a.txt');
  writeFileAtomic(file, 'one');
  writeFileAtomic(file, 'two, longer');
  t.equal(readFileSync(file, 'utf8'), 'two, longer');
  t.same(readdirSync(join(dir, 'sub')), ['a.txt']);
});

t.test('a full disk while checkpointing: a clear error, the previous checkpoint intact, no temporary file', { skip: noDevFull }, async (t) => {
  const dir = freshDir();
  const file = join(dir, 'checkpoint.json');
  saveCheckpoint(file, checkpoint(3));
  const before = readFileSync(file);
  fullDiskFor(file);
  const err = t.throws(() => saveCheckpoint(file, checkpoint(4)), FileWriteError) as Error;
  t.match(err.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: could not write checkpoint: ENOSPC`), err.message);
  t.notMatch(err.message, /\n/, 'one line');
  t.ok(readFileSync(file).equals(before), 'the previous checkpoint is byte-identical');
  t.equal(loadCheckpoint(file).step, 3, 'and loads');
  t.same(readdirSync(dir), ['checkpoint.json'], 'the temporary file is removed');
});

t.test('a real full disk (tmpfs): a short write is not taken for a whole one', { skip: noTmpfs }, async (t) => {
  const dir = mountTmpfs(t, freshDir(), 'size=64k');
  const file = join(dir, 'big.txt');
  const first = 'a'.repeat(40_000);
  writeFileAtomic(file, first);
  // The second copy fits only in part: writeSync writes what fits and returns a short count.
  t.throws(() => writeFileAtomic(file, 'b'.repeat(40_000), 'big file'), new RegExp(`${file}: could not write big file: ENOSPC`));
  t.equal(readFileSync(file, 'utf8'), first, 'the first file is intact');
  t.same(readdirSync(dir), ['big.txt'], 'no temporary file is left');
});

t.test('an unwritable place fails when the file is opened, naming the file', async (t) => {
  const dir = freshDir();
  writeFileSync(join(dir, 'plain'), '');
  const file = join(dir, 'plain', 'out.txt');
  t.throws(() => new AtomicFile(file, 'notes'), new RegExp(`^${file}: could not write notes: (ENOTDIR|EEXIST)`));
  t.throws(() => writeFileAtomic(file, 'x'), FileWriteError);
});

t.test('writeGraphFile writes JSONL or graph6 by extension, all or nothing', async (t) => {
  const dir = freshDir();
  const graphs: Graph[] = [
    { numNodes: 0, edges: [] },
    { numNodes: 1, edges: [] },
    { numNodes: 3, edges: [[0, 1], [1, 2]] },
    { numNodes: 63, edges: [[0, 62], [5, 7]] },
  ];
  for (const name of ['g.jsonl', 'g.json', 'g.g6', 'G.G6', 'g.graph6']) {
    const file = join(dir, name);
    const r = await writeGraphFile(file, async (write) => {
      write(graphs.slice(0, 2));
      write(graphs.slice(2));
      return 'done';
    });
    t.equal(r, 'done');
    const back = readGraphFile(file);
    t.same(back.map((g) => g.numNodes), [0, 1, 3, 63], `${name}: every graph comes back`);
    t.same(back.map((g) => g.edges.length), [0, 0, 2, 2]);
    if (/\.jsonl?$/.test(name)) t.equal(readFileSync(file, 'utf8').split('\n')[2], formatJsonlLine(graphs[2]), `${name} is JSONL`);
    else t.equal(readFileSync(file, 'latin1').split('\n')[2], 'Bg', `${name} is graph6`);
  }
  await t.rejects(writeGraphFile(join(dir, 'g.txt'), async () => t.fail('refused before any work')), new RegExp(`g\\.txt: unknown graph file type "\\.txt": use \\.jsonl \\(JSON lines\\) or \\.g6 \\(graph6\\)`));
  const failing = join(dir, 'fails.jsonl');
  await t.rejects(
    writeGraphFile(failing, async (write) => {
      write(graphs);
      throw new Error('chunk 3 failed');
    }),
    /chunk 3 failed/,
  );
  t.notOk(readdirSync(dir).some((f) => f.startsWith('fails') || f.startsWith('g.txt')), 'a failed fill and a refused name leave no file');
});

t.test('writeGraphFile onto a full disk leaves no file', { skip: noDevFull }, async (t) => {
  const dir = freshDir();
  const full = join(dir, 'full.g6');
  fullDiskFor(full);
  await t.rejects(writeGraphFile(full, async (write) => write([{ numNodes: 3, edges: [[0, 1], [1, 2]] }])), new RegExp(`full\\.g6: could not write graph6 graphs: ENOSPC`));
  t.same(readdirSync(dir), [], 'a full disk leaves no file');
});

t.test('loadCheckpoint refuses every damaged field with the file and the field', async (t) => {
  const dir = freshDir();
  const file = join(dir, 'checkpoint.json');
  saveCheckpoint(file, checkpoint(2));
  const good = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  t.equal(loadCheckpoint(file).graphsSeen, 20, 'the undamaged file loads');
  // Free-form edits of parsed JSON, any field at any depth.
  type Json = Record<string, any>;
  const edit = (f: (j: Json) => void): string => {
    const j = JSON.parse(JSON.stringify(good)) as Json;
    f(j);
    return JSON.stringify(j);
  };
  const nan = Buffer.from(new Float32Array([NaN]).buffer).toString('base64');
  const cases: Array<[string, string, RegExp]> = [
    ['null', 'null', /not a dgmg-pipe checkpoint \(a JSON null, expected an object\)/],
    ['an array', '[1, 2]', /not a dgmg-pipe checkpoint \(a JSON array/],
    ['a number', '7', /not a dgmg-pipe checkpoint \(a JSON number/],
    ['cut short', readFileSync(file, 'utf8').slice(0, 5000), /not a readable checkpoint: .*JSON/],
    ['nested 5000 deep', edit((j) => (j.extra = 0)).replace('"extra":0', `"extra":${'['.repeat(5000)}${']'.repeat(5000)}`), /nested more than 4 deep at offset/],
    ['config null', edit((j) => (j.config = null)), /checkpoint\.json \(config\): the config must be an object/],
    ['config vMax 1e12', edit((j) => (j.config.sample.vMax = 1e12)), /\(config\): sample\.vMax must be an integer from 1 to 4096, got 1000000000000/],
    ['params null', edit((j) => (j.params = null)), /params must be an array of the model's \d+ parameters, got null/],
    ['a parameter null', edit((j) => (j.params[2] = null)), /parameter 2 is null, the model expects/],
    ['parameter data missing', edit((j) => delete j.params[1].data), /parameter embed\.gate\.b must be base64 float32 data, got undefined/],
    ['parameter data not base64', edit((j) => (j.params[1].data = '!!!!')), /parameter embed\.gate\.b is not base64 text/],
    ['parameter data NaN', edit((j) => (j.params[1].data = nan)), /parameter embed\.gate\.b has a non-finite value \(NaN\) at index 0/],
    ['adam null', edit((j) => (j.adam = null)), /adam must be an object \{"t", "m", "v"\}, got null/],
    ['adam.t a string', edit((j) => (j.adam.t = '2')), /adam\.t must be an integer >= 0, got "2"/],
    ['adam.m short', edit((j) => (j.adam.m = j.params[1].data)), /adam\.m has 1 floats, expected \d+/],
    ['adam.v missing', edit((j) => delete j.adam.v), /adam\.v must be base64 float32 data/],
    ['step null', edit((j) => (j.step = null)), /step must be an integer >= 0, got null/],
    ['step negative', edit((j) => (j.step = -1)), /step must be an integer >= 0, got -1/],
    ['step fractional', edit((j) => (j.step = 1.5)), /step must be an integer >= 0, got 1\.5/],
    ['graphsSeen missing', edit((j) => delete j.graphsSeen), /graphsSeen must be an integer >= 0, got undefined/],
    ['graphsSeen a string', edit((j) => (j.graphsSeen = 'many')), /graphsSeen must be an integer >= 0, got "many"/],
    ['random of another step', edit((j) => (j.random = { seed: 0, step: 9 })), /random must be \{"seed": 0, "step": 2\} \(the config's seed and the step\), got \{"seed":0,"step":9\}/],
    ['random missing', edit((j) => delete j.random), /random must be/],
  ];
  for (const [label, text, reason] of cases) {
    writeFileSync(file, text);
    const err = t.throws(() => loadCheckpoint(file), label) as Error;
    t.ok(err instanceof CheckpointError || err.name === 'ConfigError', `${label}: a CheckpointError or ConfigError, got ${err.name}`);
    t.ok(err.message.startsWith(file), `${label}: names the file`);
    t.match(err.message, reason, label);
    t.ok(err.message.length < 300 && !err.message.includes('\n'), `${label}: one short line`);
  }
});
