import { defer, finalize, map, takeWhile, type OperatorFunction } from 'rxjs';

/**
 * A pulled source: each upstream value (a demand) takes the next item of `items`, and the stream
 * completes when `items` ends. RxJS pushes; this is how a source here is made to wait for its
 * consumer, so memory stays flat however slow the consumer is.
 *
 * The item after the one handed on is taken ahead, on the next turn of the event loop: by then
 * the consumer has handed its work to other threads, so the next item is prepared while that work
 * runs. At most one item is held. An error in making an item surfaces at the demand for it.
 */
export function pullAhead<T>(items: Iterator<T>): OperatorFunction<unknown, T> {
  return (demand$) =>
    defer(() => {
      let ahead: (() => IteratorResult<T>) | null = null;
      let refill: NodeJS.Immediate | null = null;
      const takeNext = (): (() => IteratorResult<T>) => {
        try {
          const r = items.next();
          return () => r;
        } catch (e) {
          return () => {
            throw e;
          };
        }
      };
      const take = (): IteratorResult<T> => {
        const next = ahead ?? takeNext();
        ahead = null;
        refill ??= setImmediate(() => {
          refill = null;
          ahead ??= takeNext();
        });
        return next();
      };
      return demand$.pipe(
        map(take),
        takeWhile((r): r is IteratorYieldResult<T> => !r.done),
        map((r) => r.value),
        finalize(() => {
          if (refill) clearImmediate(refill);
        }),
      );
    });
}
