import t from 'tap';
import { lastValueFrom, Subject, concatMap, from, tap, startWith, toArray, range } from 'rxjs';
import { pullAhead } from '../pipeline/flow';

/** 0, 1, ..., n-1, counting how many were taken. */
function counted(n: number): { items: Iterator<number>; taken: () => number } {
  let taken = 0;
  function* gen(): Generator<number> {
    for (let i = 0; i < n; i++) {
      taken++;
      yield i;
    }
  }
  return { items: gen(), taken: () => taken };
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

t.test('a pulled source runs one item ahead of a slow consumer, never more, and prepares it while the consumer works', async (t) => {
  const src = counted(6);
  const demand$ = new Subject<void>();
  const seen: Array<{ item: number; takenAtStart: number; takenAtEnd: number }> = [];
  const done = lastValueFrom(
    demand$.pipe(
      startWith(undefined),
      pullAhead(src.items),
      concatMap((item) => {
        const takenAtStart = src.taken();
        // the consumer's work: other threads compute while this thread waits
        return from(tick().then(() => ({ item, takenAtStart, takenAtEnd: src.taken() })));
      }),
      tap((r) => seen.push(r)),
      tap(() => demand$.next()),
      toArray(),
    ),
  );
  await done;
  t.same(seen.map((s) => s.item), [0, 1, 2, 3, 4, 5], 'every item, in order');
  seen.forEach((s) => t.equal(s.takenAtStart, s.item + 1, `item ${s.item}: nothing ahead taken when its work starts`));
  seen.forEach((s) => t.equal(s.takenAtEnd, Math.min(s.item + 2, 6), `item ${s.item}: the next one taken while it was worked on, no more`));
});

t.test('a source pushed faster than it is pulled stays pulled: demands, not the source, set the pace', async (t) => {
  const src = counted(100);
  const got = await lastValueFrom(range(0, 3).pipe(pullAhead(src.items), toArray()));
  t.same(got, [0, 1, 2]);
  t.equal(src.taken(), 3, 'three demands took three items (the one ahead is never taken once the stream ends)');
});

t.test('an error making an item surfaces at the demand for it', async (t) => {
  function* failing(): Generator<number> {
    yield 1;
    throw new Error('bad line 2');
  }
  const demand$ = new Subject<void>();
  const out = lastValueFrom(demand$.pipe(startWith(undefined), pullAhead(failing()), concatMap((x) => from(tick().then(() => x))), tap(() => demand$.next())));
  await t.rejects(out, /bad line 2/);
});
