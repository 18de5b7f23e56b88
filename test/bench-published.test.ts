import t from 'tap';
import { PUBLISHED } from '../bench/published';

// The figures are typed in by hand from the papers' tables; these are the slips a reader would catch.
t.test('each published row is consistent with itself', async (t) => {
  for (const p of PUBLISHED) {
    const name = `${p.set} ${p.model}`;
    t.ok(p.source.length > 0, `${name} names its source`);
    for (const percent of [p.valid, p.vun]) if (percent !== undefined) t.ok(percent >= 0 && percent <= 100, `${name}: ${percent} is a percent`);
    // A sample counted valid, unique and novel is valid.
    if (p.valid !== undefined && p.vun !== undefined) t.ok(p.vun <= p.valid, `${name}: V.U.N. ${p.vun} <= valid ${p.valid}`);
    const mmds = [p.mmdGran, p.mmdGraphRnn].filter((m) => m !== undefined);
    t.ok(mmds.length <= 1, `${name} quotes one kernel's MMDs, so its cells have one meaning`);
    for (const m of mmds) for (const value of Object.values(m)) t.ok(value >= 0, `${name}: MMD ${value} >= 0`);
  }
});

t.test('a model appears once per set', async (t) => {
  const keys = PUBLISHED.map((p) => `${p.set} ${p.model}`);
  t.same(keys.filter((k, i) => keys.indexOf(k) !== i), []);
});
