import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { cycleGraph, gridGraph, makeFamily } from '../graphs/families';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import { renderCurveSvg, renderGraphGridSvg } from '../draw/svg';
import { renderGenerationHtml } from '../draw/animate';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const SKIP = CHROMIUM === undefined ? 'Chromium is not installed (no /usr/bin/chromium); apt-get install chromium to run the rendering tests' : false;

type Rgb = readonly [number, number, number];
const GREEN: Rgb = [0x2e, 0x7d, 0x32];
const RED: Rgb = [0xc6, 0x28, 0x28];
const BLUE: Rgb = [0x1f, 0x77, 0xb4];
const CHART_RED: Rgb = [0xd6, 0x27, 0x28];

/** Runs headless Chromium on a file written into a fresh folder; returns its stdout. */
function chromium(dir: string, file: string, args: readonly string[]): string {
  return execFileSync(
    CHROMIUM as string,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${join(dir, 'profile')}`,
      '--window-size=800,600',
      ...args,
      `file://${join(dir, file)}`,
    ],
    { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

interface Image {
  readonly width: number;
  readonly height: number;
  pixel(x: number, y: number): Rgb;
}

/** A minimal PNG reader for what Chromium writes: 8-bit RGB or RGBA, not interlaced. */
function decodePng(png: Buffer): Image {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = data.subarray(8, 13);
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) throw new Error(`unsupported PNG: depth ${depth}, colour ${colour}, interlace ${interlace}`);
      channels = colour === 2 ? 3 : 4;
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= channels ? out[y * stride + i - channels] : 0;
      const b = y > 0 ? out[(y - 1) * stride + i] : 0;
      const c = i >= channels && y > 0 ? out[(y - 1) * stride + i - channels] : 0;
      const paeth = (): number => {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      };
      const predictor = [0, a, b, (a + b) >> 1, filter === 4 ? paeth() : 0][filter];
      out[y * stride + i] = (x + predictor) & 0xff;
    }
  }
  return { width, height, pixel: (x, y) => [out[y * stride + x * channels], out[y * stride + x * channels + 1], out[y * stride + x * channels + 2]] };
}

/** How many pixels are within a small distance of `colour` (anti-aliasing blurs edges only). */
function pixelsNear(img: Image, colour: Rgb): number {
  let n = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const p = img.pixel(x, y);
      if (Math.abs(p[0] - colour[0]) + Math.abs(p[1] - colour[1]) + Math.abs(p[2] - colour[2]) < 24) n++;
    }
  }
  return n;
}

function screenshot(dir: string, file: string, extra: readonly string[] = []): Image {
  const png = join(dir, `${file}.png`);
  chromium(dir, file, [`--screenshot=${png}`, ...extra]);
  return decodePng(readFileSync(png));
}

/** A fresh folder for one test, removed when it ends. */
function workDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-draw-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('the graph grid SVG renders in Chromium with its frames and nodes', { skip: SKIP }, async (t) => {
  const dir = workDir(t);
  const graphs = [cycleGraph(12), gridGraph(3, 4), makeFamily('trees').sample(new Rng(1)), cycleGraph(20)];
  writeFileSync(join(dir, 'grid.svg'), renderGraphGridSvg(graphs, { valid: [true, true, false, true], title: 'samples' }));
  const dom = chromium(dir, 'grid.svg', ['--dump-dom']);
  t.notMatch(dom, /parsererror|This page contains the following errors/, 'the SVG parses');
  t.equal(dom.match(/<circle/g)?.length, 12 + 12 + graphs[2].numNodes + 20, 'every node is in the DOM');
  const img = screenshot(dir, 'grid.svg');
  t.ok(pixelsNear(img, GREEN) > 200, 'green frames of valid graphs are drawn');
  t.ok(pixelsNear(img, RED) > 100, 'the red frame of the invalid graph is drawn');
  t.ok(pixelsNear(img, BLUE) > 1000, 'nodes are drawn');
});

t.test('the training curve SVG renders in Chromium', { skip: SKIP }, async (t) => {
  const dir = workDir(t);
  const svg = renderCurveSvg(
    [
      { name: 'loss', points: Array.from({ length: 40 }, (_, i) => [i * 2, 30 * Math.exp(-i / 8) + 4] as [number, number]) },
      { name: 'validity', points: Array.from({ length: 8 }, (_, i) => [i * 10, i / 7] as [number, number]), axis: 'right' },
    ],
    { title: 'training', xLabel: 'seconds', yLabel: 'loss', y2Label: 'validity' },
  );
  writeFileSync(join(dir, 'curve.svg'), svg);
  t.notMatch(chromium(dir, 'curve.svg', ['--dump-dom']), /parsererror|This page contains the following errors/);
  const img = screenshot(dir, 'curve.svg');
  t.ok(pixelsNear(img, BLUE) > 300, 'the loss line is drawn');
  t.ok(pixelsNear(img, CHART_RED) > 150, 'the validity line is drawn');
});

t.test('the generation animation plays to its last frame in Chromium without script errors', { skip: SKIP }, async (t) => {
  const dir = workDir(t);
  const seq = encodeGraph(cycleGraph(6));
  const html = renderGenerationHtml(seq, { title: 'C6', intervalMs: 50 });
  writeFileSync(join(dir, 'play.html'), html);
  // Virtual time runs the timers at once: 13 + 1 frames at 50 ms need well under 3 s.
  const dom = chromium(dir, 'play.html', ['--virtual-time-budget=3000', '--dump-dom']);
  t.notMatch(dom, /data-error=/, 'no script error');
  t.match(dom, new RegExp(`data-frame="${seq.length}"`), 'the last frame is reached');
  t.match(dom, new RegExp(`data-frames="${seq.length + 1}"`));
  t.match(dom, /done, 6 nodes and 6 edges/, 'the caption of the last decision is shown');
  t.notMatch(dom, /class="[^"]*\bhidden\b/, 'the whole graph is visible at the end');
  const img = screenshot(dir, 'play.html', ['--virtual-time-budget=3000']);
  t.ok(pixelsNear(img, BLUE) > 1000, 'the nodes are drawn');

  // The check above can fail: a page whose script throws is caught by the same markers.
  writeFileSync(join(dir, 'broken.html'), html.replace('show(0);\n  play();', 'show(0);\n  noSuchFunction();'));
  const broken = chromium(dir, 'broken.html', ['--virtual-time-budget=3000', '--dump-dom']);
  t.match(broken, /data-error="[^"]*noSuchFunction/, 'a script error is recorded');
  t.match(broken, /data-frame="0"/, 'and the animation does not advance');
});
