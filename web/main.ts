/**
 * The web page: the engine and the training pipeline of the command line, in a tab. Sample a
 * gallery from a shipped or loaded model, watch one graph being generated, train on a shipped
 * family or a dropped file with a live curve, download samples and checkpoints (the command line
 * reads both). URL hooks for tests and benchmarks: #sample=NAME&n=N&seed=S, #train=NAME&steps=K,
 * #bench=NAME&n=N&steps=K&rounds=R; each ends by setting the document title (see docs/web.md).
 */
import './immediate';
import { renderCurveSvg, renderGraphGridSvg, type CurveSeries } from '../draw/svg';
import { makeFamily } from '../graphs/families';
import { graphFileFormat } from '../graphs/formats';
import type { Graph } from '../graphs/graph';
import { isMoleculeVocabulary } from '../graphs/molecule';
import { useKernelBytes } from '../model/wasm';
import { checkpointJson, parseCheckpoint, type Checkpoint } from '../pipeline/checkpoint';
import { configFromJson, MAX_V_MAX, type RunConfig } from '../pipeline/config';
import { VALIDITY_SAMPLES } from '../pipeline/curve';
import { loadDataset, splitDataset, type Dataset } from '../pipeline/dataset';
import { engineSpeed, generationPage, sampleWith } from '../pipeline/model';
import { csvSmiles, graphToSmiles, loadRDKit, smiLine, smiLines, typedMolecules } from '../pipeline/molecules';
import { inProcessRunner, inThreadSampler, type ShardRunner } from '../pipeline/runner';
import { sampleChunk } from '../pipeline/sampling';
import { shardsOf, trainEvents, type StepReport } from '../pipeline/train';
import { moleculeGridOptions } from '../pipeline/commands/molecules';
import { WebWorkerRunner } from './runner';

/** What the build lists of the shipped models and configs (catalog.json). */
interface Catalog {
  readonly models: readonly string[];
  readonly configs: readonly string[];
}

/** A model the page holds: its checkpoint and what it is called. */
interface PageModel {
  readonly name: string;
  readonly ckpt: Checkpoint;
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

async function fetchOk(path: string): Promise<Response> {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: ${r.status} ${r.statusText}`);
  return r;
}

const kernelBytes: Promise<Uint8Array> = fetchOk('kernels.wasm').then(async (r) => new Uint8Array(await r.arrayBuffer()));

/** The page's models by name: the shipped ones as they are loaded, and those trained or loaded in the tab. */
const models = new Map<string, PageModel>();
let current: PageModel | null = null;

async function shippedModel(name: string): Promise<PageModel> {
  const known = models.get(name);
  if (known) return known;
  const file = `models/${name}.json`;
  const m = { name, ckpt: parseCheckpoint(await (await fetchOk(file)).text(), file) };
  models.set(name, m);
  return m;
}

async function shippedConfig(name: string): Promise<RunConfig> {
  const file = `configs/${name}.json`;
  return configFromJson(await (await fetchOk(file)).json(), file);
}

/** Whether a sample of a model of `config` is valid: RDKit sanitizes it (molecules), or its family's test; null when neither applies. */
async function validityTest(config: RunConfig): Promise<((g: Graph) => boolean) | null> {
  const names = config.model;
  if (isMoleculeVocabulary(names)) {
    const rd = await loadRDKit();
    return (g) => graphToSmiles(rd, g, names) !== null;
  }
  if (config.data.file) return null;
  const family = makeFamily(config.data.family, config.data.familyParams);
  return (g) => family.isValid(g);
}

function status(id: string, text: string): void {
  $(id).textContent = text;
}

/** A download link for `text` as `file`. */
function offer(linkId: string, file: string, text: string, type: string): void {
  const a = $<HTMLAnchorElement>(linkId);
  if (a.href.startsWith('blob:')) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = file;
  a.hidden = false;
}

function addModelOption(m: PageModel, label: string): void {
  models.set(m.name, m);
  const select = $<HTMLSelectElement>('model');
  if (!Array.from(select.options).some((o) => o.value === m.name)) select.add(new Option(label, m.name));
  select.value = m.name;
}

async function useModel(m: PageModel): Promise<void> {
  current = m;
  const c = m.ckpt.config;
  const types = c.model.nodeTypes.length ? `; node types ${c.model.nodeTypes.join(' ')}` : '';
  const counts = c.model.nodeCountInput ? `; add-node reads the node count up to ${c.model.nodeCountInput}` : '';
  const planned = c.model.plannedSize ? `; draws its size first, up to ${c.model.plannedSize}` : '';
  const joint = c.model.jointEdgeChoice ? '; add-edge reads its destinations (joint edge choice)' : '';
  const byDistance = c.model.distanceWeights ? '; destination weights by distance' : '';
  status('model-info', `${m.name}: ${m.ckpt.step} steps on ${m.ckpt.graphsSeen} graphs, ${m.ckpt.params.length} parameters (node state ${c.model.nodeSize}, ${c.model.propRounds} rounds), at most ${c.sample.vMax} nodes${types}${counts}${planned}${joint}${byDistance}`);
  offer('download-model', `${m.name}.json`, checkpointJson(m.ckpt), 'application/json');
}

/** Samples n graphs with `seed` from the current model, draws the gallery, offers the file; returns how many are valid (null: no test). */
async function sampleGallery(n: number, seed: number): Promise<{ graphs: Graph[]; valid: number | null }> {
  const m = current;
  if (!m) throw new Error('no model chosen');
  const { config } = m.ckpt;
  status('sample-status', `sampling ${n} graphs...`);
  const started = performance.now();
  const graphs = await sampleWith(inThreadSampler(m.ckpt), n, seed, config.sample.vMax);
  const seconds = (performance.now() - started) / 1000;
  const names = config.model;
  let valid: number | null = null;
  let svg: string;
  if (isMoleculeVocabulary(names)) {
    const rd = await loadRDKit();
    const opts = moleculeGridOptions(rd, graphs, names);
    valid = opts.valid.filter(Boolean).length;
    svg = renderGraphGridSvg(graphs, { ...opts, title: `${n} samples of ${m.name}: ${valid} valid molecules` });
    offer('download-smiles', `samples-seed${seed}.smi`, graphs.map((g, i) => `${smiLine(rd, g, names, i)}\n`).join(''), 'text/plain');
  } else {
    const test = await validityTest(config);
    const marks = test ? graphs.map(test) : undefined;
    valid = marks ? marks.filter(Boolean).length : null;
    svg = renderGraphGridSvg(graphs, { valid: marks, title: `${n} samples of ${m.name}${valid === null ? '' : `: ${valid} valid`}` });
    $('download-smiles').hidden = true;
  }
  $('gallery').innerHTML = svg;
  const jsonl = graphFileFormat('samples.jsonl');
  offer('download-samples', `samples-seed${seed}.jsonl`, graphs.map((g) => `${jsonl.line(g, names)}\n`).join(''), 'application/jsonl');
  const g6 = graphFileFormat('samples.g6');
  offer('download-g6', `samples-seed${seed}.g6`, graphs.map((g) => `${g6.line(g, names)}\n`).join(''), 'text/plain');
  status('sample-status', `${n} graphs in ${seconds.toFixed(2)} s (${Math.round(n / Math.max(seconds, 1e-9))} graphs/s)${valid === null ? '' : `, ${valid} valid`}`);
  return { graphs, valid };
}

function animate(seed: number): void {
  const m = current;
  if (!m) throw new Error('no model chosen');
  const page = generationPage(m.ckpt, seed, `A graph sampled from ${m.name} (seed ${seed})`);
  const frame = $<HTMLIFrameElement>('animation');
  frame.srcdoc = page.html;
  frame.hidden = false;
  status('animate-status', `${page.graph.numNodes} nodes, ${page.graph.edges.length} edges, ${page.decisions} decisions`);
}

/** The training data and config of a dropped or chosen file: graphs (JSONL, graph6) or molecules (SMILES, CSV). */
async function fileDataset(file: File): Promise<{ config: RunConfig; data: Dataset }> {
  const text = await file.text();
  const base = await shippedConfig('cycles');
  const seed = base.train.seed;
  const fit = (graphs: readonly Graph[]): number => Math.min(MAX_V_MAX, Math.max(base.sample.vMax, ...graphs.map((g) => g.numNodes)));
  if (/\.(smi|csv)$/i.test(file.name)) {
    const entries = /\.csv$/i.test(file.name) ? csvSmiles(text, file.name) : smiLines(text, file.name);
    const set = typedMolecules(await loadRDKit(), entries, { nodeTypes: [], edgeTypes: [] }, { maxAtoms: null, skipOutsideTypes: true, skipUnparsable: true });
    const config = configFromJson({ ...base, data: { ...base.data, file: file.name, order: 'natural', skipInvalid: true }, model: { ...base.model, nodeSize: 32, ...set.vocab }, sample: { vMax: fit(set.graphs) } }, file.name);
    return { config, data: splitDataset(set.graphs, config, seed, file.name, set.counts) };
  }
  const graphs = graphFileFormat(file.name).parse(text, file.name);
  const config = configFromJson({ ...base, data: { ...base.data, file: file.name, order: 'bfs' }, sample: { vMax: fit(graphs) } }, file.name);
  return { config, data: splitDataset(graphs, config, seed, file.name, null) };
}

/** The file dropped on (or chosen in) the training box, if any. */
let droppedFile: File | null = null;

let stopTraining: AbortController | null = null;

/**
 * Trains `steps` steps on the chosen config or the dropped file with the pipeline's training
 * stream, drawing the loss and validity curve as it goes. Resolves with the mean loss of the first
 * and the last tenth of the steps.
 */
async function trainInTab(source: { config: string } | { file: File }, steps: number, workers: number): Promise<{ first: number; last: number; steps: number }> {
  const { config, data } = 'config' in source ? await (async () => {
    const c = await shippedConfig(source.config);
    return { config: c, data: await loadDataset(c, c.train.seed) };
  })() : await fileDataset(source.file);
  const name = 'config' in source ? source.config : source.file.name;
  const isValid = await validityTest(config);
  const runner: ShardRunner = workers > 0 ? new WebWorkerRunner(config.model, await kernelBytes, workers) : inProcessRunner(config);
  const shards = shardsOf(config, workers);
  const losses: number[] = [];
  const curve: Array<{ seconds: number; loss: number; validity: number | null }> = [];
  const every = Math.max(1, Math.floor(steps / 10));
  const started = performance.now();
  let window: number[] = [];
  let drawnAt = 0;
  const draw = (): void => {
    const series: CurveSeries[] = [{ name: 'loss (NLL per graph)', points: curve.map((p) => [p.seconds, p.loss]) }];
    if (isValid) series.push({ name: `validity (${VALIDITY_SAMPLES} samples)`, points: curve.map((p) => [p.seconds, p.validity ?? NaN]), axis: 'right' });
    $('curve').innerHTML = renderCurveSvg(series, { title: `Training on ${name} in this tab`, xLabel: 'seconds', yLabel: 'loss', y2Label: 'validity' });
  };
  stopTraining = new AbortController();
  $<HTMLButtonElement>('stop').disabled = false;
  $<HTMLButtonElement>('train').disabled = true;
  try {
    const done = await new Promise<{ checkpoint: Checkpoint; completed: boolean }>((resolve, reject) => {
      trainEvents({ config, data, checkpointFile: null, resume: null, runner, shards, stopAtStep: steps }, stopTraining?.signal).subscribe({
        next: (e) => {
          if (e.kind === 'done') return resolve(e);
          const r: StepReport = e.report;
          losses.push(r.loss);
          window.push(r.loss);
          const seconds = (performance.now() - started) / 1000;
          const final = r.step === Math.min(steps, r.totalSteps);
          if (r.step % every === 0 || final) {
            const validity = isValid ? sampleChunk(config.model, e.params as Float32Array, 0, 0, VALIDITY_SAMPLES, config.sample.vMax).filter(isValid).length / VALIDITY_SAMPLES : null;
            curve.push({ seconds, loss: window.reduce((a, b) => a + b, 0) / window.length, validity });
            window = [];
          }
          status('train-status', `step ${r.step} of ${Math.min(steps, r.totalSteps)}, epoch ${r.epoch + 1}, loss ${r.loss.toFixed(3)}${curve.length && curve[curve.length - 1].validity !== null ? `, valid ${curve[curve.length - 1].validity?.toFixed(2)}` : ''}, ${Math.round(r.graphsSeen / seconds)} graphs/s, ${shards} shard${shards > 1 ? 's' : ''} a batch`);
          if (performance.now() - drawnAt > 250 || final) {
            draw();
            drawnAt = performance.now();
          }
        },
        error: reject,
      });
    });
    draw();
    const m = { name: `${name}-trained-${done.checkpoint.step}`, ckpt: done.checkpoint };
    addModelOption(m, `${m.name} (trained in this tab)`);
    await useModel(m);
    offer('download-checkpoint', 'checkpoint.json', checkpointJson(done.checkpoint), 'application/json');
    const tenth = Math.max(1, Math.floor(losses.length / 10));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    return { first: mean(losses.slice(0, tenth)), last: mean(losses.slice(-tenth)), steps: done.checkpoint.step };
  } finally {
    await runner.close();
    $<HTMLButtonElement>('stop').disabled = true;
    $<HTMLButtonElement>('train').disabled = false;
  }
}

/** `text` as an integer >= 0, or an error naming `what`. */
function count(text: string, what: string): number {
  const x = Number(text);
  if (text.trim() === '' || !Number.isInteger(x) || x < 0) throw new Error(`${what} must be an integer >= 0, got ${JSON.stringify(text)}`);
  return x;
}

/** An integer >= 0 from the URL hash, or `fallback`. */
function hashInt(p: URLSearchParams, key: string, fallback: number): number {
  const v = p.get(key);
  return v === null ? fallback : count(v, `#${key}=`);
}

/** Runs what the URL hash asks for (the test and benchmark hooks) and says how it ended in the title. */
async function runHash(): Promise<void> {
  const p = new URLSearchParams(location.hash.slice(1));
  const workers = hashInt(p, 'workers', defaultWorkers());
  if (p.has('sample')) {
    await chooseModel(p.get('sample') ?? '');
    const n = hashInt(p, 'n', 16);
    const seed = hashInt(p, 'seed', 0);
    $<HTMLInputElement>('n').value = String(n);
    $<HTMLInputElement>('seed').value = String(seed);
    const { valid } = await sampleGallery(n, seed);
    document.title = `dgmg-pipe: ${n} sampled, ${valid ?? 'n/a'} valid`;
  } else if (p.has('train')) {
    const config = p.get('train') ?? '';
    const steps = hashInt(p, 'steps', 50);
    $<HTMLSelectElement>('config').value = config;
    $<HTMLInputElement>('steps').value = String(steps);
    $<HTMLInputElement>('workers').value = String(workers);
    const r = await trainInTab({ config }, steps, workers);
    document.title = `dgmg-pipe: trained ${r.steps} steps, loss ${r.first.toFixed(3)} to ${r.last.toFixed(3)}`;
  } else if (p.has('bench')) {
    const name = p.get('bench') ?? '';
    const r = await engineSpeed((await shippedModel(name)).ckpt, await shippedConfig(name), hashInt(p, 'n', 1000), hashInt(p, 'steps', 100), hashInt(p, 'rounds', 2));
    document.body.dataset.bench = JSON.stringify(r);
    document.title = `dgmg-pipe: bench sample ${Math.round(r.sampleGraphsPerSecond)} graphs/s, train ${Math.round(r.trainGraphsPerSecond)} graphs/s`;
  }
}

const defaultWorkers = (): number => Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));

async function chooseModel(name: string): Promise<void> {
  const m = models.get(name) ?? (await shippedModel(name));
  addModelOption(m, m.name);
  await useModel(m);
}

/** Runs `work`, showing an error in `statusId` and in the title instead of throwing. */
function guarded(statusId: string, work: () => Promise<unknown>): () => void {
  return () => {
    work().catch((e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      status(statusId, `error: ${message}`);
      document.title = `dgmg-pipe: error: ${message}`;
      console.error(e);
    });
  };
}

async function start(): Promise<void> {
  useKernelBytes(await kernelBytes);
  const catalog = (await (await fetchOk('catalog.json')).json()) as Catalog;
  const modelSelect = $<HTMLSelectElement>('model');
  for (const name of catalog.models) modelSelect.add(new Option(name, name));
  const configSelect = $<HTMLSelectElement>('config');
  for (const name of catalog.configs) configSelect.add(new Option(name, name));
  $<HTMLInputElement>('workers').value = String(defaultWorkers());
  modelSelect.onchange = guarded('model-info', () => chooseModel(modelSelect.value));
  $<HTMLInputElement>('checkpoint-file').onchange = guarded('model-info', async () => {
    const file = $<HTMLInputElement>('checkpoint-file').files?.[0];
    if (!file) return;
    const m = { name: file.name.replace(/\.json$/i, ''), ckpt: parseCheckpoint(await file.text(), file.name) };
    addModelOption(m, `${m.name} (loaded)`);
    await useModel(m);
  });
  const number = (id: string): number => count($<HTMLInputElement>(id).value, id);
  $('sample').onclick = guarded('sample-status', () => sampleGallery(number('n'), number('seed')));
  $('animate').onclick = guarded('animate-status', async () => animate(number('animate-seed')));
  const drop = $('drop');
  const takeFile = (f: File | undefined): void => {
    droppedFile = f ?? null;
    drop.textContent = droppedFile ? `${droppedFile.name}: train on this file (choose "dropped file" above)` : 'Drop a .jsonl, .g6, .smi or .csv file here, or click to choose one';
    if (droppedFile) configSelect.value = '';
  };
  drop.ondragover = (e) => e.preventDefault();
  drop.ondrop = (e) => {
    e.preventDefault();
    takeFile(e.dataTransfer?.files[0]);
  };
  drop.onclick = () => $('data-file').click();
  $<HTMLInputElement>('data-file').onchange = () => takeFile($<HTMLInputElement>('data-file').files?.[0]);
  $('train').onclick = guarded('train-status', async () => {
    const source = configSelect.value === '' ? (droppedFile ? { file: droppedFile } : null) : { config: configSelect.value };
    if (!source) throw new Error('drop a graph or molecule file first, or choose a shipped family');
    await trainInTab(source, number('steps'), number('workers'));
  });
  $('stop').onclick = () => stopTraining?.abort();
  await chooseModel(catalog.models[0]);
  await runHash();
}

guarded('model-info', start)();
