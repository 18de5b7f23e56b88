/**
 * `eval` computes its samples where `sample` does (this thread, a pool of threads, or worker hosts
 * through Redis), and its report is the same whichever does.
 */
import t from 'tap';
import { haveRedis, runCli, startRedis, startWorkers, stopWorkers } from '../bench/redis-server';

/** Eval's JSON report of 300 samples of the shipped cycles model, seed 5, with these extra flags. */
async function evalReport(extra: string[]): Promise<Record<string, unknown>> {
  const p = runCli(['eval', '--n', '300', '--seed', '5', '--json', '--quiet', ...extra]);
  const { code } = await p.exit;
  if (code !== 0) throw new Error(`eval ${extra.join(' ')}: exit ${code}:\n${p.stderr()}`);
  return JSON.parse(p.stdout()) as Record<string, unknown>;
}

/** The report without what may differ between runs: the time taken and the workers used. */
const measures = (r: Record<string, unknown>): Record<string, unknown> => ({ ...r, seconds: undefined, workers: undefined });

let inProcess: Record<string, unknown>;

t.before(async () => {
  inProcess = await evalReport(['--workers', '1']);
});

t.test('eval --workers 1 and --workers 2 give the same report', async (t) => {
  t.match(inProcess, { samples: 300, workers: 1, testGraphs: 500 });
  t.ok((inProcess.validity as number) > 0.9, `validity ${inProcess.validity}`);
  const two = await evalReport(['--workers', '2']);
  t.equal(two.workers, 2);
  t.same(measures(two), measures(inProcess), 'validity, uniqueness, novelty, MMD and NLL equal');
  const other = await evalReport(['--workers', '2', '--seed', '6']);
  t.not(JSON.stringify(measures(other).sizeHistogram), JSON.stringify(measures(inProcess).sizeHistogram), 'another seed, other samples');
});

t.test('eval --redis with one worker host gives the in-process report', { skip: haveRedis() ? false : 'redis-server is not installed (apt-get install redis-server)' }, async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const ws = await startWorkers(1, redis.url, ['--verbose']);
  try {
    const remote = await evalReport(['--workers', '2', '--redis', redis.url]);
    t.equal(remote.workers, 2);
    t.same(measures(remote), measures(inProcess), 'the same report, computed on the worker host');
  } finally {
    await stopWorkers(ws);
  }
  t.equal(ws[0].stderr().match(/sample seed 5 graphs \d+\.\.\d+: done/g)?.length, 3, 'the worker host computed the 3 chunks');
});
