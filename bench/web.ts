import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { loadConfig } from '../pipeline/config';
import { engineSpeed, type EngineSpeed } from '../pipeline/model';
import { finalTitle, NO_CHROMIUM, startPageSession, type PageSession } from './chromium';

const ROOT = join(__dirname, '..', '..');

/** `--flag N` of the command line, or `fallback`. */
function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const x = Number(process.argv[i + 1]);
  if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} must be a positive integer, got ${process.argv[i + 1]}`);
  return x;
}

/** The engine's speed in the page (its #bench hook), in a fresh tab. */
async function inChromium(s: PageSession, name: string, n: number, steps: number, rounds: number): Promise<EngineSpeed> {
  const page = await s.open(`bench=${name}&n=${n}&steps=${steps}&rounds=${rounds}`);
  const title = await finalTitle(page, 900_000);
  const json = (await page.evaluate('document.body.dataset.bench')) as string | undefined;
  await page.close();
  if (!json) throw new Error(`the page's benchmark failed: ${title}`);
  return JSON.parse(json) as EngineSpeed;
}

/** Pictures of the page for the docs: the gallery, molecules, a training curve, the animation. */
async function screenshots(s: PageSession, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const shots: Array<{ file: string; hash: string; selector: string }> = [
    { file: 'web-cycles.png', hash: 'sample=cycles&n=16&seed=1', selector: 'body' },
    { file: 'web-molecules.png', hash: 'sample=molecules-nci&n=12&seed=4', selector: '#gallery' },
    { file: 'web-training.png', hash: 'train=cycles&steps=600', selector: '#curve' },
  ];
  const written: string[] = [];
  for (const shot of shots) {
    const page = await s.open(shot.hash);
    process.stderr.write(`${shot.file}: ${await finalTitle(page, 900_000)}\n`);
    const el = await page.$(shot.selector);
    if (!el) throw new Error(`${shot.file}: the page has no ${shot.selector}`);
    await el.screenshot({ path: join(dir, shot.file) as `${string}.png` });
    written.push(join(dir, shot.file));
    await page.close();
  }
  const page = await s.open('sample=cycles&n=1');
  await finalTitle(page);
  await page.evaluate("document.getElementById('animate').click()");
  await page.waitForFunction("document.getElementById('animate-status').textContent !== ''");
  // Two thirds of the way through the generation, paused there.
  const frame = await (await page.$('#animation'))?.contentFrame();
  await frame?.waitForSelector('#scrub');
  await frame?.evaluate("const s = document.getElementById('scrub'); s.value = String(Math.round(Number(s.max) * 2 / 3)); s.dispatchEvent(new Event('input'))");
  await (await page.$('#animation'))?.screenshot({ path: join(dir, 'web-animation.png') });
  written.push(join(dir, 'web-animation.png'));
  await page.close();
  return written;
}

/**
 * `npm run bench:web [-- --n N --steps K --rounds R] [-- --screenshots DIR]`: the engine's
 * sampling and training speed in headless Chromium (the page's #bench hook) beside Node's in the
 * same run, alternating, each the best of R rounds, one thread each. Prints a table and writes
 * bench/results/web.json; with --screenshots, also PNGs of the page into DIR.
 */
async function main(): Promise<void> {
  if (NO_CHROMIUM) throw new Error(NO_CHROMIUM);
  const name = 'cycles';
  const n = flag('n', 2000);
  const steps = flag('steps', 150);
  const rounds = flag('rounds', 3);
  const ckpt = loadCheckpoint(join(ROOT, 'models', `${name}.json`));
  const config = loadConfig(join(ROOT, 'configs', `${name}.json`));
  const s = await startPageSession();
  try {
    const shotsAt = process.argv.indexOf('--screenshots');
    if (shotsAt > 0) for (const f of await screenshots(s, process.argv[shotsAt + 1] ?? 'docs')) process.stderr.write(`wrote ${f}\n`);
    // Node and Chromium alternate, so a change in the machine's load falls on both.
    const node: EngineSpeed[] = [];
    const chromium: EngineSpeed[] = [];
    for (let pass = 0; pass < 2; pass++) {
      node.push(await engineSpeed(ckpt, config, n, steps, rounds));
      chromium.push(await inChromium(s, name, n, steps, rounds));
    }
    const best = (xs: EngineSpeed[], k: keyof EngineSpeed): number => Math.round(Math.max(...xs.map((x) => x[k])));
    const rows = (['sampleGraphsPerSecond', 'trainGraphsPerSecond'] as const).map((k) => {
      const nodeFigure = best(node, k);
      const chromiumFigure = best(chromium, k);
      return { what: k === 'sampleGraphsPerSecond' ? 'sample' : 'train', node: nodeFigure, chromium: chromiumFigure, ratio: +(chromiumFigure / nodeFigure).toFixed(2) };
    });
    process.stdout.write(`model ${name}: sample ${n} graphs, train ${steps} steps of batch ${config.train.batchSize}; one thread each, best of ${2 * rounds} rounds\n`);
    process.stdout.write('what     Node graphs/s  Chromium graphs/s  Chromium/Node\n');
    for (const r of rows) process.stdout.write(`${r.what.padEnd(8)} ${String(r.node).padStart(13)} ${String(r.chromium).padStart(18)} ${r.ratio.toFixed(2).padStart(14)}\n`);
    const version = await s.browser.version();
    const out = { date: new Date().toISOString(), command: `npm run bench:web -- --n ${n} --steps ${steps} --rounds ${rounds}`, node: process.version, chromium: version, model: name, n, steps, rounds, rows };
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'web.json'), `${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await s.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:web: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
