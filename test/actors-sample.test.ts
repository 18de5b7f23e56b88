import t from 'tap';
import { join } from 'node:path';
import { SamplePool } from '../actors/pool';
import { adamState } from '../model/adam';
import { initParams, paramLayout } from '../model/params';
import { configFromJson } from '../pipeline/config';
import { inThreadSampler } from '../pipeline/runner';
import { faultMemory, setFault } from './fixtures/faults';


// A pool that gives up on a chunk after 10 s instead of 120.
const config = configFromJson({ model: { nodeSize: 8 }, train: { taskTimeoutSeconds: 10 }, sample: { vMax: 12 } }, 'sampling faults test');
const layout = paramLayout(config.model);
const ckpt = { config, params: initParams(layout, 4), adam: adamState(layout.total), step: 0, graphsSeen: 0 };

t.test('a hung sampling worker is terminated after train.taskTimeoutSeconds and its chunk re-run; the graphs are the same', async (t) => {
  const faults = faultMemory();
  const log: string[] = [];
  const pool = new SamplePool(config, ckpt.params, 2, { log: (l) => log.push(l), worker: { filename: join(__dirname, 'fixtures', 'faulty-sample-worker.js'), data: { faults } } });
  t.teardown(() => pool.close());
  setFault(faults, { kind: 'hang', step: 100, shard: null, times: 1 });
  const [a, b] = await Promise.all([pool.chunk(9, 0, 100, 12), pool.chunk(9, 100, 50, 12)]);
  const here = inThreadSampler(ckpt);
  t.same(a, await here.chunk(9, 0, 100, 12), 'graphs 0..99 as sampled in this thread');
  t.same(b, await here.chunk(9, 100, 50, 12), 'graphs 100..149, re-run after the hang, too');
  t.same(log, ['sampling graphs 100..149 failed (no answer within 10 s; its worker was terminated); retrying, attempt 2 of 3']);
});
