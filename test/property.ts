import { isDeepStrictEqual } from 'node:util';

/**
 * A property checked over many random trials is one assertion, not one per trial: the suite's
 * count then says how many things are checked, and a failure names the first case that breaks the
 * property. `check` returns null when case k holds, else what is wrong with it.
 */
export function forAll<C>(t: { ok(value: unknown, message: string): unknown }, what: string, cases: Iterable<C>, check: (c: C, k: number) => string | null): void {
  let k = 0;
  for (const c of cases) {
    const wrong = check(c, k);
    if (wrong !== null) {
      t.ok(false, `${what}: case ${k}: ${wrong}`);
      return;
    }
    k++;
  }
  t.ok(k > 0, `${what} (${k} cases)`);
}

/** 0, 1, ..., n - 1: the trial numbers of `n` trials. */
export const trials = (n: number): number[] => Array.from({ length: n }, (_, k) => k);

/** null when `got` deeply equals `want`, else a message showing both (cut short). */
export function differs(got: unknown, want: unknown, what: string): string | null {
  if (isDeepStrictEqual(got, want)) return null;
  const brief = (x: unknown): string => {
    const s = JSON.stringify(x) ?? String(x);
    return s.length > 300 ? `${s.slice(0, 297)}...` : s;
  };
  return `${what}: got ${brief(got)}, want ${brief(want)}`;
}

/** The first non-null of `checks`, or null: several facts of one case, reported by the first that fails. */
export const firstWrong = (...checks: Array<string | null>): string | null => checks.find((c) => c !== null) ?? null;
