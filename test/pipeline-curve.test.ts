import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { moleculeMeasures } from '../pipeline/commands/molecules';
import { runTrain, type TrainOptions } from '../pipeline/commands/train';
import { VALIDITY_SAMPLES, type CurvePoint } from '../pipeline/curve';
import { inProcessRunner } from '../pipeline/runner';
import { sampleChunk } from '../pipeline/sampling';

/** The training curve: validity for molecule runs, and a metrics.jsonl that survives a torn append. */

const FIXTURE = resolve(__dirname, '..', '..', 'test', 'fixtures', 'molecules', 'nci-first-200.smi');
const dir = mkdtempSync(join(tmpdir(), 'dgmg-curve-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const config = (name: string, json: object): string => {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify(json));
  return f;
};
const train = (over: Partial<TrainOptions>): ReturnType<typeof runTrain> =>
  runTrain({ configFile: null, outDir: dir, resumeDir: null, initFrom: null, overrides: {}, workers: 1, makeRunner: inProcessRunner, stopAtStep: null, quiet: true, force: false, ...over }, () => false);
const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

t.test('a molecule run measures validity on its training curve, as eval counts it', async (t) => {
  const vocab = { nodeTypes: ['C', 'N', 'O', 'S', 'Cl', 'Br', 'F', 'N+', 'O-'], edgeTypes: ['single', 'double', 'triple'] };
  const c = config('mol.json', {
    data: { file: FIXTURE, maxAtoms: 23, skipInvalid: true, testSize: 20 },
    model: { nodeSize: 8, propRounds: 1, ...vocab },
    train: { epochs: 1, batchSize: 20, checkpointEvery: 4 },
    sample: { vMax: 23 },
  });
  const out = join(dir, 'mol');
  const summary = await train({ configFile: c, outDir: out });
  t.equal(summary.steps, 8, '152 training molecules in batches of 20');
  const points = lines(join(out, 'metrics.jsonl')).map((l) => JSON.parse(l) as CurvePoint);
  const measured = points.filter((p) => p.validity !== null);
  t.same(measured.map((p) => p.step), [4, 8], 'validity at each checkpoint and at the end');
  for (const p of measured) t.ok(typeof p.validity === 'number' && p.validity >= 0 && p.validity <= 1, `step ${p.step}: validity ${p.validity} in [0, 1]`);
  // the same seeded samples of the final parameters, measured by eval's molecule measures
  const ckpt = loadCheckpoint(summary.checkpoint);
  const samples = sampleChunk(ckpt.config.model, ckpt.params, 0, 0, VALIDITY_SAMPLES, ckpt.config.sample.vMax);
  const byEval = await moleculeMeasures(samples, [], ckpt.config.model);
  t.equal(measured[1].validity, byEval.validity, `the last point's validity is eval's (${byEval.valid} of ${VALIDITY_SAMPLES})`);
  t.equal(summary.validity, byEval.validity, 'and the summary says so');
  t.match(readFileSync(summary.curve, 'utf8'), `validity (${VALIDITY_SAMPLES} samples)`, 'the SVG draws the validity series');
});

/** A cycles run of 8 steps stopped at step 4, in its own folder; the metrics.jsonl it wrote. */
async function stoppedRun(t: Test, name: string): Promise<{ out: string; metrics: string }> {
  const c = config(`${name}.json`, {
    data: { family: 'cycles', familyParams: { minNodes: 4, maxNodes: 6 }, trainSize: 32, testSize: 4 },
    model: { nodeSize: 6, propRounds: 1 },
    train: { epochs: 2, batchSize: 8, checkpointEvery: 2 },
    sample: { vMax: 8 },
  });
  const out = join(dir, name);
  const first = await train({ configFile: c, outDir: out, stopAtStep: 4 });
  t.equal(first.steps, 4);
  return { out, metrics: join(out, 'metrics.jsonl') };
}

t.test('resuming over a torn last line of metrics.jsonl drops that line and goes on', async (t) => {
  const { out, metrics } = await stoppedRun(t, 'torn');
  const before = lines(metrics);
  t.same(before.map((l) => (JSON.parse(l) as CurvePoint).step), [1, 2, 3, 4]);
  writeFileSync(metrics, `${readFileSync(metrics, 'utf8')}{"step":5,"seconds":0.4,"gra`);
  const rest = await train({ resumeDir: out, outDir: out });
  t.equal(rest.steps, 8);
  const text = readFileSync(metrics, 'utf8');
  t.notMatch(text, '"gra{', 'the torn fragment is gone');
  const after = lines(metrics);
  t.same(after.slice(0, 4), before, 'the points before the tear are kept as they were');
  t.same(after.map((l) => (JSON.parse(l) as CurvePoint).step), [1, 2, 3, 4, 5, 6, 7, 8], 'every line is a point, the resumed ones on lines of their own');
  t.ok(text.endsWith('\n'));
});

t.test('a point whose newline was lost is kept, and the next point goes on a line of its own', async (t) => {
  const { out, metrics } = await stoppedRun(t, 'newline');
  writeFileSync(metrics, readFileSync(metrics, 'utf8').replace(/\n$/, ''));
  await train({ resumeDir: out, outDir: out, stopAtStep: 5 });
  t.same(lines(metrics).map((l) => (JSON.parse(l) as CurvePoint).step), [1, 2, 3, 4, 5]);
});

t.test('a bad line before the last is damage: the resume is refused, naming the file and line, and the file is left alone', async (t) => {
  const { out, metrics } = await stoppedRun(t, 'corrupt');
  const good = lines(metrics);
  const damaged = [good[0], '{"step":2,"sec', ...good.slice(2)].map((l) => `${l}\n`).join('');
  writeFileSync(metrics, damaged);
  await t.rejects(train({ resumeDir: out, outDir: out }), { message: new RegExp(`^${metrics.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: not JSON \\(.*\\); only a torn last line is dropped on resume`) });
  t.equal(readFileSync(metrics, 'utf8'), damaged, 'nothing rewritten');
  t.equal(loadCheckpoint(join(out, 'checkpoint.json')).step, 4, 'nor trained');
  writeFileSync(metrics, [good[0], '{"step":2}', ...good.slice(2)].map((l) => `${l}\n`).join(''));
  await t.rejects(train({ resumeDir: out, outDir: out }), { message: `${metrics}:2: not a training-curve point (needs the numbers step, seconds, graphs and loss, and validity a number or null)` });
});

t.test('points past the checkpoint (a run killed between checkpoints) are dropped on resume: each step appears once', async (t) => {
  const { out, metrics } = await stoppedRun(t, 'killed');
  // the killed run got as far as step 5's point; its checkpoint is step 4's
  writeFileSync(metrics, `${readFileSync(metrics, 'utf8')}${JSON.stringify({ step: 5, seconds: 9, graphs: 40, loss: 99, validity: null })}\n`);
  await train({ resumeDir: out, outDir: out });
  const after = lines(metrics).map((l) => JSON.parse(l) as CurvePoint);
  t.same(after.map((p) => p.step), [1, 2, 3, 4, 5, 6, 7, 8]);
  t.not(after[4].loss, 99, "step 5 is the resumed run's, not the killed one's");
});
