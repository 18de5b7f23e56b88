import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface LockEntry {
  readonly version?: string;
  readonly dev?: boolean;
  readonly link?: boolean;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly bin?: unknown;
  readonly engines?: unknown;
}

function run(cmd: string, args: readonly string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 600_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/**
 * The package as `npm pack` makes it, installed into an empty folder and used there as a user
 * would: `import { loadModel } from 'dgmg-pipe'` in a plain .mjs, and the same in TypeScript
 * against the shipped types. Offline: the folder's lock file is the repo's, cut to the packages
 * the library needs at run time, so npm takes every one of them from its cache (filled by the
 * repo's own install), never from the registry.
 */
t.test('npm pack installs offline into an empty folder, where import { loadModel } from \'dgmg-pipe\' works', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-pack-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pack = run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
  t.equal(pack.status, 0, 'npm pack', { output: pack.out });
  const [{ filename, files }] = JSON.parse(pack.out.slice(pack.out.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const paths = files.map((f) => f.path);
  for (const need of ['dist/api/index.js', 'dist/api/index.d.ts', 'dist/bin/dgmg-pipe.js', 'dist/model/kernels.wasm', 'dist/web/index.html', 'dist/web/main.js', 'models/cycles.json', 'configs/cycles.json']) {
    t.ok(paths.includes(need), `the package has ${need}`);
  }
  t.notOk(paths.some((p) => p.startsWith('dist/test/') || p.endsWith('.map')), 'and no tests or source maps');

  const app = join(dir, 'app');
  mkdirSync(app);
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const self = lock.packages[''];
  const tarball = `file:../${filename}`;
  const packages: Record<string, unknown> = {
    '': { name: 'app', dependencies: { 'dgmg-pipe': tarball } },
    'node_modules/dgmg-pipe': { version: self.version, resolved: tarball, dependencies: self.dependencies, bin: self.bin, engines: self.engines },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path.startsWith('node_modules/') && !entry.dev && !entry.link) packages[path] = entry;
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { 'dgmg-pipe': tarball } }));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }));
  const install = run(NPM, ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
  t.equal(install.status, 0, 'npm ci --offline in the empty folder', { output: install.out });

  writeFileSync(
    join(app, 'use.mjs'),
    [
      "import { loadModel, parseModel } from 'dgmg-pipe';",
      'const model = loadModel();',
      'const graphs = await model.sample({ n: 5, seed: 1 });',
      'const again = parseModel(model.toCheckpointText());',
      'console.log(JSON.stringify({ graphs, logLik: model.logLikelihood(graphs), same: JSON.stringify(await again.sample({ n: 5, seed: 1 })) === JSON.stringify(graphs) }));',
    ].join('\n'),
  );
  const use = run(process.execPath, ['use.mjs'], app);
  t.equal(use.status, 0, 'node use.mjs', { output: use.out });
  const result = JSON.parse(use.out) as { graphs: Array<{ num_nodes: number }>; logLik: number[]; same: boolean };
  t.equal(result.graphs.length, 5, 'five graphs sampled by the installed package');
  t.ok(result.logLik.every((x) => x < 0), 'and scored');
  t.ok(result.same, 'a checkpoint text round trip samples the same graphs');
  const cliSample = run(process.execPath, [join(app, 'node_modules', 'dgmg-pipe', 'dist', 'bin', 'dgmg-pipe.js'), 'sample', '--n', '5', '--seed', '1', '--out', 'g.jsonl', '--workers', '1', '--quiet'], app);
  t.equal(cliSample.status, 0, 'the installed dgmg-pipe sample', { output: cliSample.out });
  t.same(readFileSync(join(app, 'g.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)), result.graphs, 'the installed CLI samples the same graphs');

  // The shipped types check a TypeScript user's code, and catch a wrong one.
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const flags = ['--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types')];
  writeFileSync(join(app, 'use.mts'), "import { loadModel, type GraphRecord } from 'dgmg-pipe';\nconst g: GraphRecord[] = await loadModel().sample({ n: 2, seed: 0 });\nexport const nodes: number = g[0].num_nodes;\n");
  const good = run(process.execPath, [tsc, ...flags, 'use.mts'], app);
  t.equal(good.status, 0, 'tsc on a user\'s module', { output: good.out });
  writeFileSync(join(app, 'wrong.mts'), "import { loadModel } from 'dgmg-pipe';\nexport const x: string = (await loadModel().sample({ n: 2 }))[0].num_nodes;\n");
  const wrong = run(process.execPath, [tsc, ...flags, 'wrong.mts'], app);
  t.match(wrong.out, /wrong\.mts.*Type 'number' is not assignable to type 'string'/, 'a type error in a user\'s code is found');
});
