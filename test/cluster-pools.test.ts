/**
 * A worker host's pools (PoolCache): one per key while at most MAX_POOLS are open, the least
 * recently used idle one closed to make room, busy ones never closed, idle ones closed after a while.
 */
import t from 'tap';
import { MAX_POOLS, PoolCache } from '../actors/cluster-worker';

/** A pool that records its opening and closing. */
function recorder(): { make: (key: string) => () => { close(): Promise<void> }; opened: string[]; closed: string[] } {
  const opened: string[] = [];
  const closed: string[] = [];
  const make = (key: string) => () => {
    opened.push(key);
    return { close: async () => void closed.push(key) };
  };
  return { make, opened, closed };
}

t.test('two keys taking turns keep their pools: each opened once', async (t) => {
  const r = recorder();
  const cache = new PoolCache();
  for (let i = 0; i < 10; i++) for (const key of ['a', 'b']) await cache.use(key, r.make(key), async () => undefined);
  t.same(r.opened, ['a', 'b']);
  t.same(r.closed, []);
  await cache.close();
  t.same(r.closed.sort(), ['a', 'b']);
});

t.test('one key more than MAX_POOLS closes the least recently used idle pool', async (t) => {
  const r = recorder();
  const cache = new PoolCache();
  const keys = Array.from({ length: MAX_POOLS }, (_, i) => `k${i}`);
  for (const key of keys) await cache.use(key, r.make(key), async () => undefined);
  await cache.use('k0', r.make('k0'), async () => undefined); // k1 is now the least recently used
  await cache.use('new', r.make('new'), async () => undefined);
  t.same(r.closed, ['k1']);
  t.equal(cache.size, MAX_POOLS);
  t.same(r.opened, [...keys, 'new'], 'k0 was not opened again');
});

t.test('a busy pool is never closed to make room', async (t) => {
  const r = recorder();
  const cache = new PoolCache();
  let release = (): void => undefined;
  const held = new Promise<void>((done) => (release = done));
  const busy = cache.use('busy', r.make('busy'), () => held);
  for (let i = 0; i < MAX_POOLS; i++) await cache.use(`k${i}`, r.make(`k${i}`), async () => undefined);
  t.notOk(r.closed.includes('busy'), `closed: ${r.closed.join(', ')}`);
  t.same(r.closed, ['k0'], 'the least recently used idle pool went instead');
  release();
  await busy;
});

t.test('idle pools are closed after a while, busy ones stay', async (t) => {
  const r = recorder();
  const cache = new PoolCache();
  await cache.use('idle', r.make('idle'), async () => undefined);
  let release = (): void => undefined;
  const busy = cache.use('busy', r.make('busy'), () => new Promise<void>((done) => (release = done)));
  await cache.closeIdle(Date.now() + 24 * 3600_000);
  t.same(r.closed, ['idle']);
  release();
  await busy;
});
