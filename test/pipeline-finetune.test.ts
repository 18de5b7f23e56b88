import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { paramLayout, paramView } from '../model/params';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { runTrain, type TrainOptions } from '../pipeline/commands/train';
import { inProcessRunner } from '../pipeline/runner';

/** `train --init-from`: a new run that starts from a checkpoint's parameters, model and atom types, with a fresh optimizer. */

const FIXTURE = resolve(__dirname, '..', '..', 'test', 'fixtures', 'molecules', 'nci-first-200.smi');
const BIN = resolve(__dirname, '..', 'bin', 'dgmg-pipe.js');
const dir = mkdtempSync(join(tmpdir(), 'dgmg-finetune-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const train = (over: Partial<TrainOptions>): ReturnType<typeof runTrain> =>
  runTrain({ configFile: null, outDir: dir, resumeDir: null, initFrom: null, overrides: {}, workers: 1, makeRunner: inProcessRunner, stopAtStep: null, quiet: true, force: false, ...over }, () => false);

const VOCAB = { nodeTypes: ['C', 'N', 'O'], edgeTypes: ['single', 'double', 'triple'] };
// Four molecules within C, N, O; one with Cl, one with S: outside the base model's types.
const MINE = 'CCO\nc1ccccc1N\nCC(=O)NC\nOCCN\nClCCO\nCSC\n';
const LR = 0.001;

let baseCkpt = '';
t.before(async () => {
  const base = file('base.json', JSON.stringify({
    data: { file: FIXTURE, maxAtoms: 20, skipInvalid: true, testSize: 10 },
    model: { nodeSize: 8, propRounds: 1, ...VOCAB },
    train: { epochs: 1, batchSize: 25, lr: 0.005 },
    sample: { vMax: 20 },
  }));
  const summary = await train({ configFile: base, outDir: join(dir, 'base') });
  baseCkpt = summary.checkpoint;
});

t.test('fine-tuning starts from the checkpoint\'s parameters with a fresh Adam: its first step moves each parameter by about lr', async (t) => {
  const base = loadCheckpoint(baseCkpt);
  t.ok(base.adam.t > 1, 'the base run took several steps');
  const tune = file('tune.json', JSON.stringify({ data: { maxAtoms: 20, skipInvalid: true, testSize: 1 }, train: { epochs: 2, batchSize: 4, lr: LR, lrFinalFraction: 1, clipNorm: 0 }, sample: { vMax: 20 } }));
  const summary = await train({ configFile: tune, initFrom: baseCkpt, outDir: join(dir, 'tuned'), overrides: { dataFile: file('mine.smi', MINE) }, stopAtStep: 1 });
  t.same(summary.molecules, { read: 6, kept: 4, unparsable: 0, tooLarge: 0, outsideTypes: 2, notRepresentable: 0 }, 'Cl and S molecules skipped and counted');
  t.equal(summary.initFrom, baseCkpt);
  const tuned = loadCheckpoint(summary.checkpoint);
  t.same(tuned.config.model, base.config.model, 'the checkpoint\'s model and atom types');
  t.same([tuned.step, tuned.adam.t, tuned.graphsSeen], [1, 1, 4], 'a new run: step, Adam and graph counts from zero (one batch of the 4 molecules; a fifth of 4 holds none out)');
  // Adam's first step from zero moments is lr * g / (|g| + eps): about lr for every parameter with a gradient
  let near = 0;
  let beyond = 0;
  for (let i = 0; i < base.params.length; i++) {
    const d = Math.abs(tuned.params[i] - base.params[i]);
    if (d > LR * 1.001) beyond++;
    if (Math.abs(d - LR) < LR * 0.01) near++;
  }
  t.equal(beyond, 0, 'no parameter moved more than lr');
  t.ok(near > 0.5 * base.params.length, `${near} of ${base.params.length} parameters moved by lr (1%): the base parameters with a fresh Adam`);
});

t.test('the valence constraint may switch on fine-tuning (it shapes no parameter); left out, it is the checkpoint\'s', async (t) => {
  const base = loadCheckpoint(baseCkpt);
  t.equal(base.config.model.valenceMask, true, 'a new molecule model has the constraint');
  const off = file('off.json', JSON.stringify({ model: { valenceMask: false }, data: { maxAtoms: 20, skipInvalid: true, testSize: 1 }, sample: { vMax: 20 } }));
  const switched = await train({ configFile: off, initFrom: baseCkpt, outDir: join(dir, 'off'), overrides: { dataFile: file('mine4.smi', MINE) }, stopAtStep: 1 });
  const tuned = loadCheckpoint(switched.checkpoint);
  t.equal(tuned.config.model.valenceMask, false, 'the config switches it off');
  t.same(tuned.params.length, base.params.length, 'the same parameters');
  const kept = await train({ initFrom: baseCkpt, outDir: join(dir, 'kept'), overrides: { dataFile: file('mine5.smi', MINE), skipInvalid: true }, stopAtStep: 1 });
  t.equal(loadCheckpoint(kept.checkpoint).config.model.valenceMask, true, 'no config: the checkpoint\'s');
});

t.test('connected may switch on fine-tuning: molecules of several fragments are skipped and counted, or refused by file and line', async (t) => {
  // line 2 is a mixture: two fragments, which a model that joins every atom cannot teach
  const salted = file('salted.smi', 'CCO\nCC(=O)O.NCC\nCCN\nOCCN\nCC(=O)NC\nCCCO\n');
  const on = (skipInvalid: boolean): string => file(`connected-${skipInvalid}.json`, JSON.stringify({ model: { constraints: ['connected'] }, data: { maxAtoms: 20, skipInvalid, testSize: 1 }, sample: { vMax: 20 } }));
  const joined = await train({ configFile: on(true), initFrom: baseCkpt, outDir: join(dir, 'connected'), overrides: { dataFile: salted }, stopAtStep: 1 });
  t.same(joined.molecules, { read: 6, kept: 5, unparsable: 0, tooLarge: 0, outsideTypes: 0, notRepresentable: 0, fragmented: 1 }, 'the mixture skipped and counted');
  t.same(loadCheckpoint(joined.checkpoint).config.model.constraints, ['connected'], 'the config switches it on');
  await t.rejects(train({ configFile: on(false), initFrom: baseCkpt, outDir: join(dir, 'connected-strict'), overrides: { dataFile: salted }, stopAtStep: 1 }), { name: 'GraphFormatError', message: new RegExp(`^${salted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: node \\d+ \\(position \\d+ in the node order\\) has no earlier neighbour, but model.constraints has connected`) });
  const kept = await train({ initFrom: baseCkpt, outDir: join(dir, 'fragments-kept'), overrides: { dataFile: salted, skipInvalid: true }, stopAtStep: 1 });
  t.same([kept.molecules?.kept, kept.molecules?.fragmented], [6, undefined], 'without the constraint the mixture is kept, and no fragments are counted');
});

t.test('the joint edge choice may switch on fine-tuning (it shapes no parameter) and changes the first step\'s loss; left out, it is the checkpoint\'s', async (t) => {
  const base = loadCheckpoint(baseCkpt);
  t.equal(base.config.model.jointEdgeChoice, false, 'the base model has DGMG\'s add-edge');
  const common = { data: { maxAtoms: 20, skipInvalid: true, testSize: 1 }, train: { epochs: 2, batchSize: 4, lr: LR, lrFinalFraction: 1, clipNorm: 0 }, sample: { vMax: 20 } };
  const data = file('mine-joint.smi', MINE);
  const on = await train({ configFile: file('joint.json', JSON.stringify({ ...common, model: { jointEdgeChoice: true } })), initFrom: baseCkpt, outDir: join(dir, 'joint'), overrides: { dataFile: data }, stopAtStep: 1 });
  const off = await train({ configFile: file('factored.json', JSON.stringify(common)), initFrom: baseCkpt, outDir: join(dir, 'factored'), overrides: { dataFile: data }, stopAtStep: 1 });
  t.not(on.finalLoss, off.finalLoss, 'another model of the same parameters: another loss');
  const tuned = loadCheckpoint(on.checkpoint);
  t.equal(tuned.config.model.jointEdgeChoice, true, 'the config switches it on');
  t.equal(tuned.params.length, base.params.length, 'the same parameters');
  const kept = await train({ initFrom: on.checkpoint, outDir: join(dir, 'joint-kept'), overrides: { dataFile: data, skipInvalid: true }, stopAtStep: 1 });
  t.equal(loadCheckpoint(kept.checkpoint).config.model.jointEdgeChoice, true, 'no config: the checkpoint\'s');
});

t.test('a destination-distance table may switch on fine-tuning: it starts at zero, so the run starts as the checkpoint\'s model; any other change of D is refused by name', async (t) => {
  const base = loadCheckpoint(baseCkpt);
  t.equal(base.config.model.destinationDistance, 0, 'the base model has no distance term');
  const common = { data: { maxAtoms: 20, skipInvalid: true, testSize: 1 }, train: { epochs: 2, batchSize: 4, lr: LR, lrFinalFraction: 1, clipNorm: 0 }, sample: { vMax: 20 } };
  const data = file('mine6.smi', MINE);
  const on = await train({ configFile: file('distance.json', JSON.stringify({ ...common, model: { destinationDistance: 3 } })), initFrom: baseCkpt, outDir: join(dir, 'distance'), overrides: { dataFile: data }, stopAtStep: 1 });
  const off = await train({ configFile: file('plain.json', JSON.stringify(common)), initFrom: baseCkpt, outDir: join(dir, 'plain'), overrides: { dataFile: data }, stopAtStep: 1 });
  t.equal(on.finalLoss, off.finalLoss, 'the first step\'s loss is the checkpoint model\'s');
  const tuned = loadCheckpoint(on.checkpoint);
  const plain = loadCheckpoint(off.checkpoint);
  t.equal(tuned.config.model.destinationDistance, 3, 'the config switches it on');
  t.equal(tuned.params.length, base.params.length + 4 * 3, 'the checkpoint\'s parameters and a (D + 1) x B table');
  // a zero table scores as plain DGMG, so every other gradient, and so Adam's first step, is the same
  t.same(Array.from(tuned.params.subarray(0, base.params.length)), Array.from(plain.params), 'every other parameter takes the step the run without the term takes');
  const table = tuned.params.subarray(base.params.length);
  t.ok(table.some((x) => x !== 0) && table.every((x) => Math.abs(x) <= LR * 1.001), 'the table moved from zero, by at most lr');
  for (const D of [5, 0]) {
    const config = file(`d${D}.json`, JSON.stringify({ model: { destinationDistance: D } }));
    await t.rejects(train({ configFile: config, initFrom: on.checkpoint, outDir: join(dir, `d${D}`), overrides: { dataFile: data } }), {
      message: `${on.checkpoint}: has model.destinationDistance = 3, but ${config} asks for ${D}; --init-from keeps the checkpoint's model (leave model.destinationDistance out of the config)`,
    });
  }
});

t.test('weights by distance may switch on fine-tuning with the distance term: q starts at zero, so the run starts as the checkpoint\'s model; switching it off is refused', async (t) => {
  const base = loadCheckpoint(baseCkpt);
  const common = { data: { maxAtoms: 20, skipInvalid: true, testSize: 1 }, train: { epochs: 2, batchSize: 4, lr: LR, lrFinalFraction: 1, clipNorm: 0 }, sample: { vMax: 20 } };
  const data = file('mine-q.smi', MINE);
  const on = await train({ configFile: file('q.json', JSON.stringify({ ...common, model: { destinationDistance: 3, distanceWeights: true } })), initFrom: baseCkpt, outDir: join(dir, 'q'), overrides: { dataFile: data }, stopAtStep: 1 });
  const plain = await train({ configFile: file('q-plain.json', JSON.stringify(common)), initFrom: baseCkpt, outDir: join(dir, 'q-plain'), overrides: { dataFile: data }, stopAtStep: 1 });
  t.equal(on.finalLoss, plain.finalLoss, 'the first step\'s loss is the checkpoint model\'s');
  const tuned = loadCheckpoint(on.checkpoint);
  t.equal(tuned.config.model.distanceWeights, true, 'the config switches it on');
  const n = base.config.model.nodeSize;
  t.equal(tuned.params.length, base.params.length + 4 * 3 + 2 * n * 4 * 3, 'the checkpoint\'s parameters, a (D + 1) x B table and q, 2n x (D + 1)·B');
  const q = paramView(paramLayout(tuned.config.model), tuned.params, 'chooseDest.distanceWeights');
  t.ok(q.some((x) => x !== 0) && q.every((x) => Math.abs(x) <= LR * 1.001), 'q moved from zero, by at most lr');
  const config = file('q-off.json', JSON.stringify({ model: { distanceWeights: false } }));
  await t.rejects(train({ configFile: config, initFrom: on.checkpoint, outDir: join(dir, 'q-off'), overrides: { dataFile: data } }), {
    message: `${on.checkpoint}: has model.distanceWeights = true, but ${config} asks for false; --init-from keeps the checkpoint's model (leave model.distanceWeights out of the config)`,
  });
});

t.test('the node-count input may switch on fine-tuning: the run starts as the checkpoint\'s model exactly; any other change of it is refused', async (t) => {
  const base = loadCheckpoint(baseCkpt);
  t.equal(base.config.model.nodeCountInput, 0, 'the base model has none');
  // no clipping: each parameter's first Adam step depends on its own gradient alone
  const tune = { data: { maxAtoms: 20, skipInvalid: true, testSize: 1 }, train: { epochs: 2, batchSize: 4, lr: LR, lrFinalFraction: 1, clipNorm: 0 }, sample: { vMax: 20 } };
  const plain = await train({ configFile: file('count-plain.json', JSON.stringify(tune)), initFrom: baseCkpt, outDir: join(dir, 'count-plain'), overrides: { dataFile: file('mine6.smi', MINE) }, stopAtStep: 1 });
  const countFile = file('count.json', JSON.stringify({ ...tune, model: { nodeCountInput: 16 } }));
  const counted = await train({ configFile: countFile, initFrom: baseCkpt, outDir: join(dir, 'count'), overrides: { dataFile: file('mine7.smi', MINE) }, stopAtStep: 1 });
  t.equal(counted.finalLoss, plain.finalLoss, 'the first step\'s loss is the plain fine-tune\'s: the table starts at zeros');
  const a = loadCheckpoint(plain.checkpoint);
  const b = loadCheckpoint(counted.checkpoint);
  t.equal(b.config.model.nodeCountInput, 16, 'the config switches it on');
  const la = paramLayout(a.config.model);
  const lb = paramLayout(b.config.model);
  const differ = la.specs.filter((s) => JSON.stringify(paramView(la, a.params, s.name)) !== JSON.stringify(paramView(lb, b.params, s.name)));
  t.same(differ.map((s) => s.name), [], 'after one step every other parameter equals the plain fine-tune\'s, bit for bit');
  const nu = paramView(lb, b.params, 'addNode.count');
  t.ok(nu.every((x) => Math.abs(x) <= LR * 1.001), 'the table moved by at most lr from zeros');
  t.ok(nu.some((x) => Math.abs(Math.abs(x) - LR) < LR * 0.01), 'the rows of the counts trained moved by about lr');
  const kept = await train({ initFrom: counted.checkpoint, outDir: join(dir, 'count-kept'), overrides: { dataFile: file('mine8.smi', MINE), skipInvalid: true }, stopAtStep: 1 });
  t.equal(loadCheckpoint(kept.checkpoint).config.model.nodeCountInput, 16, 'no config: the checkpoint\'s');
  for (const N of [8, 0]) {
    const other = file(`count-${N}.json`, JSON.stringify({ model: { nodeCountInput: N } }));
    await t.rejects(train({ configFile: other, initFrom: counted.checkpoint, outDir: join(dir, `count-${N}`), overrides: { dataFile: file('mine9.smi', MINE) } }), {
      message: `${counted.checkpoint}: has model.nodeCountInput = 16, but ${other} asks for ${N}; --init-from keeps the checkpoint's model (leave model.nodeCountInput out of the config)`,
    });
  }
});

t.test('a planned size may switch on fine-tuning: sigma starts at the data\'s sizes (at every fine-tune), rho at zeros; switching it off, or data larger than N, is refused', async (t) => {
  const base = loadCheckpoint(baseCkpt);
  t.equal(base.config.model.plannedSize, 0, 'the base model has none');
  // four molecules kept (CCO, c1ccccc1N, CC(=O)NC, OCCN: 3, 7, 5 and 4 atoms), all four trained (a fifth of four holds none out)
  const tune = { data: { maxAtoms: 20, skipInvalid: true, testSize: 1 }, train: { epochs: 2, batchSize: 4, lr: LR, lrFinalFraction: 1, clipNorm: 0, seed: 0 }, sample: { vMax: 20 } };
  const sized = await train({ configFile: file('size-on.json', JSON.stringify({ ...tune, model: { plannedSize: 12 } })), initFrom: baseCkpt, outDir: join(dir, 'size-on'), overrides: { dataFile: file('mine10.smi', MINE) }, stopAtStep: 1 });
  const tuned = loadCheckpoint(sized.checkpoint);
  t.equal(tuned.config.model.plannedSize, 12, 'the config switches it on');
  const layout = paramLayout(tuned.config.model);
  const n = base.config.model.nodeSize;
  t.equal(tuned.params.length, base.params.length + 13 + 13 * n, 'the checkpoint\'s parameters, sigma (N + 1) and rho ((N + 1) x n)');
  const sigma = Array.from(paramView(layout, tuned.params, 'size.logits'));
  const countsAt = (sizes: number[]): number[] => Array.from({ length: 13 }, (_, k) => sizes.filter((x) => x === k).length);
  t.ok(sigma.every((x, k) => Math.abs(x - Math.log(countsAt([3, 4, 5, 7])[k] + 0.5)) <= LR * 1.001), 'sigma = log(c + 1/2) of the sizes 3, 4, 5 and 7, moved by at most lr');
  const rho = paramView(layout, tuned.params, 'addNode.remaining');
  t.ok(rho.some((x) => x !== 0) && rho.every((x) => Math.abs(x) <= LR * 1.001), 'rho moved from zeros, by at most lr');
  // fine-tuned again on other data: sigma starts at the new data's sizes, rho where the checkpoint left it
  const again = await train({ initFrom: sized.checkpoint, outDir: join(dir, 'size-again'), overrides: { dataFile: file('chains.smi', 'CCCCCC\nCCCCCCCC\nCCCCC\nCCCC\n') }, stopAtStep: 1 });
  const retuned = loadCheckpoint(again.checkpoint);
  const sigma2 = paramView(layout, retuned.params, 'size.logits');
  t.ok(sigma2.every((x, k) => Math.abs(x - Math.log(countsAt([6, 8, 5, 4])[k] + 0.5)) <= LR * 1.001), 'sigma = log(c + 1/2) of the new sizes 6, 8, 5 and 4');
  t.ok(paramView(layout, retuned.params, 'addNode.remaining').every((x, i) => Math.abs(x - rho[i]) <= LR * 1.001), 'rho within lr of the checkpoint\'s');
  const off = file('size-off.json', JSON.stringify({ model: { plannedSize: 0 } }));
  await t.rejects(train({ configFile: off, initFrom: sized.checkpoint, outDir: join(dir, 'size-off'), overrides: { dataFile: file('mine11.smi', MINE) } }), {
    message: `${sized.checkpoint}: has model.plannedSize = 12, but ${off} asks for 0; --init-from keeps the checkpoint's model (leave model.plannedSize out of the config)`,
  });
  const small = file('size-small.json', JSON.stringify({ ...tune, model: { plannedSize: 4 } }));
  const data = file('mine12.smi', MINE);
  await t.rejects(train({ configFile: small, initFrom: baseCkpt, outDir: join(dir, 'size-small'), overrides: { dataFile: data } }), {
    message: `${data}:2: has 7 nodes, more than model.plannedSize = 4 can draw; raise model.plannedSize in the config`,
  });
});

t.test('outside types refused when skipping is off; model keys that differ refused by name', async (t) => {
  const data = file('mine2.smi', MINE);
  await t.rejects(train({ initFrom: baseCkpt, outDir: join(dir, 'strict'), overrides: { dataFile: data, skipInvalid: false } }), {
    message: `${data}:5: ClCCO: atom 0 (0-based, in the order the SMILES writes its atoms) has type Cl, which is not among the atom types [C, N, O] and bond types [single, double, triple]`,
  });
  const size = file('size.json', JSON.stringify({ model: { nodeSize: 16 } }));
  await t.rejects(train({ configFile: size, initFrom: baseCkpt, outDir: join(dir, 'size'), overrides: { dataFile: data } }), {
    message: `${baseCkpt}: has model.nodeSize = 8, but ${size} asks for 16; --init-from keeps the checkpoint's model (leave model.nodeSize out of the config)`,
  });
  const types = file('types.json', JSON.stringify({ model: { nodeSize: 8, nodeTypes: ['C', 'N', 'O', 'Cl'] } }));
  await t.rejects(train({ configFile: types, initFrom: baseCkpt, outDir: join(dir, 'types'), overrides: { dataFile: data } }), { message: /has model\.nodeTypes = \["C","N","O"\], but .*types\.json asks for \["C","N","O","Cl"\]/ });
  await t.rejects(train({ initFrom: baseCkpt, resumeDir: join(dir, 'base'), outDir: join(dir, 'base') }), { message: /give one of them/ });
});

t.test('train --init-from on the command line, the checkpoint\'s config otherwise', async (t) => {
  const r = spawnSync(process.execPath, [BIN, 'train', '--init-from', baseCkpt, '--data', file('mine3.smi', MINE), '--skip-invalid', '--epochs', '1', '--out', join(dir, 'cli'), '--workers', '1', '--quiet'], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^molecules\n +read +6\n +kept +4\n +unparsable +0\n +too large +0\n +outside the types +2\n +not representable +0$/m, 'the summary says what was skipped');
  t.match(r.stdout, new RegExp(`^init from +${baseCkpt.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
  const bad = spawnSync(process.execPath, [BIN, 'train', '--init-from', join(dir, 'none.json'), '--out', join(dir, 'cli2'), '--quiet'], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  t.equal(bad.status, 1);
  t.match(bad.stderr, /^dgmg-pipe: .*none\.json: not a readable checkpoint: ENOENT/);
});
