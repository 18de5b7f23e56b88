// Builds the web page into dist/web: the page and its training worker bundled by esbuild, beside
// them the engine's kernels.wasm, RDKit MinimalLib, the shipped models and the family configs, and
// catalog.json listing those. Every path in the page is relative, so any static host serves it.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'models'), { recursive: true });
mkdirSync(join(out, 'configs'), { recursive: true });

const stub = join(root, 'web', 'node-stub.ts');
await build({
  entryPoints: { main: join(root, 'web', 'main.ts'), worker: join(root, 'web', 'worker.ts') },
  outdir: out,
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  // The pipeline's file code is never called in the page; RDKit comes from the files copied below.
  alias: { 'node:fs': stub, 'node:path': stub, 'node:buffer': stub, '@rdkit/rdkit': join(root, 'web', 'rdkit.ts') },
  define: { __dirname: '""' },
});

for (const f of ['index.html', 'style.css']) copyFileSync(join(root, 'web', f), join(out, f));
copyFileSync(join(root, 'dist', 'model', 'kernels.wasm'), join(out, 'kernels.wasm'));
const rdkit = dirname(createRequire(import.meta.url).resolve('@rdkit/rdkit'));
for (const f of ['RDKit_minimal.js', 'RDKit_minimal.wasm']) copyFileSync(join(rdkit, f), join(out, f));

const names = (dir) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.json')).map((f) => basename(f, '.json')).sort((a, b) => (a === 'cycles' ? -1 : b === 'cycles' ? 1 : a.localeCompare(b)));
const models = names('models');
for (const m of models) copyFileSync(join(root, 'models', `${m}.json`), join(out, 'models', `${m}.json`));
// A config that trains on a file (molecules.json names one on the building machine) has no data in a page.
const configs = names('configs').filter((c) => !JSON.parse(readFileSync(join(root, 'configs', `${c}.json`), 'utf8')).data?.file);
for (const c of configs) copyFileSync(join(root, 'configs', `${c}.json`), join(out, 'configs', `${c}.json`));
writeFileSync(join(out, 'catalog.json'), `${JSON.stringify({ models, configs })}\n`);
