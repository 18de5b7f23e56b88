import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { downloadText, finalTitle, NO_CHROMIUM, startPageSession, type PageSession } from '../bench/chromium';
import { makeFamily } from '../graphs/families';
import { parseJsonl } from '../graphs/formats';
import { loadCheckpoint, parseCheckpoint } from '../pipeline/checkpoint';
import { loadConfig } from '../pipeline/config';
import { cliIn } from './cli-run';

const ROOT = resolve(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'dgmg-web-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const cli = cliIn(dir, 600_000);

let session: PageSession | null = null;
const open = async (hash: string) => {
  session ??= await startPageSession();
  return session.open(hash);
};
t.teardown(async () => {
  await session?.close();
});

t.test('the page loads the engine and the shipped cycles model, fetching only its own files', { skip: NO_CHROMIUM }, async (t) => {
  const page = await open('');
  await page.waitForFunction("document.getElementById('model-info').textContent.startsWith('cycles:')", { timeout: 120_000 });
  const options = (await page.evaluate("Array.from(document.querySelectorAll('#model option')).map((o) => o.value)")) as string[];
  t.same(options, ['cycles', 'molecules-base', 'molecules-nci'], 'the shipped models');
  const configs = (await page.evaluate("Array.from(document.querySelectorAll('#config option')).map((o) => o.value)")) as string[];
  t.ok(['cycles', 'trees', 'ladders', 'lobsters'].every((c) => configs.includes(c)) && !configs.includes('molecules'), `families to train: ${configs.join(' ')}`);
  const s = session as PageSession;
  t.ok(s.requests.length >= 5, `${s.requests.length} requests`);
  t.same(s.requests.filter((u) => !u.startsWith(s.server.url)), [], 'every request goes to the page\'s own server');
  t.same(s.errors, [], 'no console errors');
  await page.close();
});

t.test('#sample=cycles&n=64&seed=5 draws the graphs dgmg-pipe sample --seed 5 writes, byte for byte', { skip: NO_CHROMIUM }, async (t) => {
  const page = await open('sample=cycles&n=64&seed=5');
  const title = await finalTitle(page);
  const m = /^dgmg-pipe: 64 sampled, (\d+) valid$/.exec(title);
  t.ok(m, title);
  for (const ext of ['jsonl', 'g6']) {
    const out = join(dir, `cycles.${ext}`);
    const r = cli('sample', '--n', '64', '--seed', '5', '--out', out, '--workers', '1', '--quiet');
    t.equal(r.status, 0, r.stderr);
    t.equal(await downloadText(page, ext === 'jsonl' ? 'download-samples' : 'download-g6'), readFileSync(out, 'utf8'), `the page's ${ext} download is the CLI's file`);
  }
  const config = loadConfig(join(ROOT, 'configs', 'cycles.json'));
  const family = makeFamily(config.data.family, config.data.familyParams);
  const graphs = parseJsonl(readFileSync(join(dir, 'cycles.jsonl'), 'utf8'), 'cycles.jsonl');
  t.equal(Number(m?.[1]), graphs.filter((g) => family.isValid(g)).length, 'the title counts the valid cycles');
  const svg = (await page.evaluate("document.querySelectorAll('#gallery g.graph').length")) as number;
  t.equal(svg, 64, 'the gallery draws 64 graphs');
  await page.close();
});

t.test('#sample=molecules-nci: RDKit in the page gives the SMILES file of dgmg-pipe sample', { skip: NO_CHROMIUM }, async (t) => {
  const page = await open('sample=molecules-nci&n=24&seed=2');
  const title = await finalTitle(page);
  const out = join(dir, 'mol.smi');
  const r = cli('sample', '--model', join(ROOT, 'models', 'molecules-nci.json'), '--n', '24', '--seed', '2', '--out', out, '--workers', '1', '--quiet', '--json');
  t.equal(r.status, 0, r.stderr);
  const notMolecules = (JSON.parse(r.stdout) as { notMolecules: number }).notMolecules;
  t.equal(title, `dgmg-pipe: 24 sampled, ${24 - notMolecules} valid`);
  t.equal(await downloadText(page, 'download-smiles'), readFileSync(out, 'utf8'), 'the same SMILES lines');
  t.ok(((await page.evaluate("document.querySelectorAll('#gallery g.graph.valid svg').length")) as number) >= 24 - notMolecules, 'valid molecules drawn by RDKit');
  await page.close();
});

t.test('#train=cycles&steps=20 trains in the tab on 2 Web Workers to the model of dgmg-pipe train --workers 2, and lowers the loss', { skip: NO_CHROMIUM }, async (t) => {
  const page = await open('train=cycles&steps=20&workers=2');
  const title = await finalTitle(page);
  const m = /^dgmg-pipe: trained 20 steps, loss ([\d.]+) to ([\d.]+)$/.exec(title);
  t.ok(m, title);
  t.ok(Number(m?.[2]) < Number(m?.[1]), `the loss falls: ${m?.[1]} to ${m?.[2]}`);
  const file = join(dir, 'page-checkpoint.json');
  writeFileSync(file, await downloadText(page, 'download-checkpoint'));
  const r = cli('train', '--config', join(ROOT, 'configs', 'cycles.json'), '--max-steps', '20', '--workers', '2', '--out', join(dir, 'cli-run'), '--quiet', '--json');
  t.ok(r.status === 0 || r.status === 130, r.stderr);
  const page1 = loadCheckpoint(file);
  const cli1 = loadCheckpoint(join(dir, 'cli-run', 'checkpoint.json'));
  t.equal(page1.step, 20);
  // Chromium's V8 and Node's may round a transcendental function's last bit differently, so the
  // page's arithmetic is the CLI's to float32 round-off; in practice nearly every value is identical.
  for (const [what, a, b] of [['parameters', page1.params, cli1.params], ['Adam m', page1.adam.m, cli1.adam.m], ['Adam v', page1.adam.v, cli1.adam.v]] as const) {
    let same = 0;
    let worst = 0;
    a.forEach((x, i) => {
      if (x === b[i]) same++;
      else worst = Math.max(worst, Math.abs(x - b[i]) / Math.max(Math.abs(x), Math.abs(b[i])));
    });
    t.ok(a.length === b.length && worst < 1e-4, `${what}: ${same} of ${a.length} identical, the rest within a relative ${worst.toExponential(1)}`);
  }
  // the page's checkpoint samples in the CLI
  const s = cli('sample', '--model', file, '--n', '10', '--seed', '1', '--out', join(dir, 'from-page.jsonl'), '--quiet', '--workers', '1');
  t.equal(s.status, 0, s.stderr);
  t.equal(parseJsonl(readFileSync(join(dir, 'from-page.jsonl'), 'utf8'), 'x').length, 10);
  await page.close();
});

t.test('a checkpoint trained by the CLI loads in the page and samples the same graphs there', { skip: NO_CHROMIUM }, async (t) => {
  const config = join(dir, 'tiny.json');
  writeFileSync(config, JSON.stringify({ data: { family: 'trees', trainSize: 30, testSize: 5, familyParams: { minNodes: 4, maxNodes: 7 } }, model: { nodeSize: 4, propRounds: 1 }, train: { epochs: 1, batchSize: 6 }, sample: { vMax: 9 } }));
  const r = cli('train', '--config', config, '--out', join(dir, 'tiny-run'), '--quiet', '--workers', '1');
  t.equal(r.status, 0, r.stderr);
  const ckpt = join(dir, 'tiny-run', 'checkpoint.json');
  const page = await open('');
  await page.waitForFunction("document.getElementById('model-info').textContent.startsWith('cycles:')", { timeout: 120_000 });
  const input = await page.$('#checkpoint-file');
  await input?.uploadFile(ckpt);
  await page.waitForFunction("document.getElementById('model-info').textContent.startsWith('checkpoint:')", { timeout: 60_000 });
  await page.evaluate("document.getElementById('n').value = '40'; document.getElementById('seed').value = '9'; document.getElementById('sample').click()");
  await page.waitForFunction("document.getElementById('sample-status').textContent.startsWith('40 graphs')", { timeout: 60_000 });
  const out = join(dir, 'tiny.jsonl');
  t.equal(cli('sample', '--model', ckpt, '--n', '40', '--seed', '9', '--out', out, '--quiet', '--workers', '1').status, 0);
  t.equal(await downloadText(page, 'download-samples'), readFileSync(out, 'utf8'), 'the page samples the CLI\'s model as the CLI does');
  t.same(parseCheckpoint(await downloadText(page, 'download-model'), 'download').params, loadCheckpoint(ckpt).params, 'and offers it back unchanged');
  await page.close();
});

t.test('a dropped file that is not a graph file is refused with its name and line', { skip: NO_CHROMIUM }, async (t) => {
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"num_nodes": 3, "edges": [[0, 1]]}\n{"num_nodes": 2, "edges": [[0, 5]]}\n');
  const page = await open('');
  await page.waitForFunction("document.getElementById('model-info').textContent.startsWith('cycles:')", { timeout: 120_000 });
  await (await page.$('#data-file'))?.uploadFile(bad);
  await page.evaluate("document.getElementById('config').value = ''; document.getElementById('steps').value = '5'; document.getElementById('train').click()");
  await page.waitForFunction("document.getElementById('train-status').textContent.startsWith('error')", { timeout: 60_000 });
  t.match(await page.evaluate("document.getElementById('train-status').textContent"), /^error: bad\.jsonl:2: .*node/);
  await page.close();
});

t.test('over all the tests above, the page fetched nothing but its own files', { skip: NO_CHROMIUM }, async (t) => {
  const s = session as PageSession;
  // Its own files come from the loopback server; its downloads are blobs made in the tab.
  const outside = s.requests.filter((u) => !u.startsWith(s.server.url) && !u.startsWith('blob:') && !u.startsWith('data:'));
  t.ok(s.requests.some((u) => u.endsWith('RDKit_minimal.wasm')) && s.requests.some((u) => u.endsWith('worker.js')), `${s.requests.length} requests, RDKit and the workers among them`);
  t.same(outside, [], 'no request went elsewhere');
});
