import t from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Folders are roles and imports only go down: graphs <- model, eval, draw <- pipeline <- actors <-
 * api <- bin. eval and draw sit beside model (same rank: none of the three imports another). web
 * (the browser page) sits beside actors: it uses the pipeline, never the Node-only actors or api.
 * Folders not listed (test, bench) sit above all, and nothing listed may import them.
 */
const RANK: Readonly<Record<string, number>> = { graphs: 0, model: 1, eval: 1, draw: 1, pipeline: 2, actors: 3, web: 3, api: 4, bin: 5 };
const rank = (folder: string): number => RANK[folder] ?? Infinity;

/** Every .ts file under `dir`, as paths relative to it (node_modules and dist left out). */
function sources(dir: string, root = dir): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return sources(path, root);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [relative(root, path)] : [];
  });
}

/** The relative module specifiers a file imports: import/export ... from, bare import, require(), import(). */
function relativeImports(text: string): string[] {
  const found: string[] = [];
  for (const re of [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s+['"]([^'"]+)['"]/g, /\b(?:require|import)\s*\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of text.matchAll(re)) if (m[1].startsWith('.')) found.push(m[1]);
  }
  return found;
}

/** Every breach of the layering in the source tree at `root`: imports that go up or sideways, and cycles of folders. */
export function layoutViolations(root: string): string[] {
  const out: string[] = [];
  const edges = new Map<string, Set<string>>();
  for (const file of sources(root)) {
    const folder = file.split(/[\\/]/)[0];
    if (folder === file) continue; // a file at the top (none today) belongs to no role
    for (const spec of relativeImports(readFileSync(join(root, file), 'utf8'))) {
      const target = relative(root, resolve(root, dirname(file), spec)).split(/[\\/]/)[0];
      if (target === folder) continue;
      if (!edges.has(folder)) edges.set(folder, new Set());
      edges.get(folder)?.add(target);
      if (rank(target) >= rank(folder) && rank(folder) !== Infinity) out.push(`${file} imports ${target}/ (${rank(target) === rank(folder) ? 'beside' : 'above'} ${folder}/): ${spec}`);
    }
  }
  // cycles of folders, each reported once, by depth-first search
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    path.push(f);
    for (const g of [...(edges.get(f) ?? [])].sort()) {
      if (state.get(g) === 'open') out.push(`folders form a cycle: ${[...path.slice(path.indexOf(g)), g].join(' -> ')}`);
      else if (!state.has(g)) visit(g);
    }
    path.pop();
    state.set(f, 'done');
  };
  for (const f of [...edges.keys()].sort()) if (!state.has(f)) visit(f);
  return out;
}

const ROOT = resolve(__dirname, '..', '..');

t.test('imports only go down the layers and no folders form a cycle', async (t) => {
  const files = sources(ROOT);
  t.ok(files.filter((f) => f.startsWith('pipeline')).length > 5 && files.some((f) => f.startsWith('actors')), `${files.length} source files read`);
  t.same(layoutViolations(ROOT), []);
});

t.test('the check finds an import that goes up, one that goes sideways, and a cycle', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-layout-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, text: string): void => {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  };
  // today's mistake before this check: pipeline/train.ts used actors/aggregator.ts, actors/pool.ts pipeline's interfaces
  write('pipeline/train.ts', "import { aggregate } from '../actors/aggregator';\nexport const x = aggregate;\n");
  write('actors/aggregator.ts', "import type { RunConfig } from '../pipeline/config';\nexport const aggregate = (c: RunConfig) => c;\n");
  write('pipeline/config.ts', 'export interface RunConfig { a: number }\n');
  write('model/m.ts', "export { quality } from '../eval/q';\n");
  write('eval/q.ts', "const g = require('../graphs/g');\nexport const quality = g;\n");
  write('graphs/g.ts', "export const g = 1;\nconst later = () => import('./h');\n");
  t.same(layoutViolations(dir), [
    "model/m.ts imports eval/ (beside model/): ../eval/q",
    "pipeline/train.ts imports actors/ (above pipeline/): ../actors/aggregator",
    'folders form a cycle: actors -> pipeline -> actors',
  ]);
});
