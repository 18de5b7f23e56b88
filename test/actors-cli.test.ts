import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initParams, paramLayout } from '../model/params';
import { adamState } from '../model/adam';
import { loadCheckpoint, saveCheckpoint } from '../pipeline/checkpoint';
import { configFromJson } from '../pipeline/config';

const CLI = resolve(__dirname, '..', 'bin', 'dgmg-pipe.js');

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onStderr` sees stderr as it arrives (with the child, to signal it). */
function cli(args: string[], onStderr?: (text: string, kill: (sig: NodeJS.Signals) => void) => void): Promise<Done> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, (sig) => child.kill(sig));
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'dgmg-actors-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

// 40 small cycles, batches of 10, 5 epochs: 20 steps.
const configFile = join(dir, 'config.json');
writeFileSync(
  configFile,
  JSON.stringify({
    data: { family: 'cycles', familyParams: { minNodes: 5, maxNodes: 12 }, trainSize: 40, testSize: 10 },
    train: { epochs: 5, batchSize: 10, lr: 0.005, clipNorm: 1, seed: 1, checkpointEvery: 5 },
  }),
);

for (const workers of [1, 2]) {
  t.test(`SIGINT finishes the step in flight and checkpoints; --resume then equals an uninterrupted run (--workers ${workers})`, async (t) => {
    const w = String(workers);
    const out = (name: string): string => join(dir, `${name}-${workers}`);
    const full = await cli(['train', '--config', configFile, '--out', out('full'), '--workers', w, '--json', '--quiet']);
    t.equal(full.code, 0, full.stderr);
    const summary = JSON.parse(full.stdout) as { completed: boolean; steps: number; workers: number; graphsTrained: number };
    t.match(summary, { completed: true, steps: 20, workers, graphsTrained: 200 });

    // Progress lines go to stderr (JSON when not a TTY); the first comes after step 1.
    let sent = false;
    const cut = await cli(['train', '--config', configFile, '--out', out('cut'), '--workers', w, '--json'], (text, kill) => {
      if (!sent && text.includes('"progress":"train"')) {
        sent = true;
        kill('SIGINT');
      }
    });
    t.ok(sent, 'a progress line came');
    t.equal(cut.code, 130, 'exit status 130');
    t.match(cut.stderr, /SIGINT: finishing the step in flight/);
    const stopped = loadCheckpoint(join(out('cut'), 'checkpoint.json'));
    t.ok(stopped.step >= 1 && stopped.step < 20, `stopped at step ${stopped.step}`);
    t.match(cut.stderr, new RegExp(`stopped early at step ${stopped.step}; continue with: dgmg-pipe train --resume`));

    const resumed = await cli(['train', '--resume', out('cut'), '--workers', w, '--json', '--quiet']);
    t.equal(resumed.code, 0, resumed.stderr);
    t.match(JSON.parse(resumed.stdout), { completed: true, steps: 20 });

    const a = loadCheckpoint(join(out('full'), 'checkpoint.json'));
    const b = loadCheckpoint(join(out('cut'), 'checkpoint.json'));
    t.equal(b.step, 20);
    t.equal(b.graphsSeen, a.graphsSeen);
    t.same(Array.from(b.params), Array.from(a.params), 'parameters equal, bit for bit');
    t.same(Array.from(b.adam.m), Array.from(a.adam.m), 'Adam state equal');
    t.same(Array.from(b.adam.v), Array.from(a.adam.v));
  });
}

t.test('sampling with 1 and 3 workers and the same seed writes identical files', async (t) => {
  const config = configFromJson({ sample: { vMax: 14 } }, 'sampling test config');
  const layout = paramLayout(config.model);
  const model = join(dir, 'model.json');
  saveCheckpoint(model, { config, params: initParams(layout, 5), adam: adamState(layout.total), step: 0, graphsSeen: 0 });
  const sample = async (workers: number, seed: number): Promise<string> => {
    const out = join(dir, `sample-${workers}-${seed}.jsonl`);
    const r = await cli(['sample', '--model', model, '--n', '250', '--seed', String(seed), '--workers', String(workers), '--out', out, '--json', '--quiet']);
    t.equal(r.code, 0, r.stderr);
    // 250 graphs are 3 chunks; threads beyond the cores are not started
    t.match(JSON.parse(r.stdout), { graphs: 250, workers: Math.min(workers, availableParallelism()) });
    return readFileSync(out, 'utf8');
  };
  const one = await sample(1, 7);
  const three = await sample(3, 7);
  t.equal(one.trim().split('\n').length, 250, '250 graphs');
  t.ok(one === three, 'identical files');
  t.not(await sample(3, 8), three, 'another seed gives other graphs');
});
