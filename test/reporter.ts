import { Transform, type TransformCallback } from 'node:stream';
import { Parser, type Result } from 'tap-parser';

/**
 * `npm test`'s report (tap --reporter=./dist/test/reporter.js): one line per test file, then the
 * skipped tests with their reasons, every failure with its diagnostics, and tap's own summary
 * comment `# { total: N, pass: P, ... }`, which .ci/run reads. Plain lines, the same on a terminal
 * and in a log: tap's terse reporters redraw their screen, which in a log is a line per redraw,
 * and when told they run in CI (one drawing at the end) a run that timed out printed nothing.
 */
class Report extends Transform {
  private readonly parser = new Parser();
  /** Skips and failures, printed before the summary. */
  private readonly details: string[] = [];

  constructor() {
    super();
    this.watch(this.parser, 0);
    this.parser.on('comment', (c: string) => {
      if (/^# \{ total: \d+/.test(c)) this.out(['', ...this.details.splice(0), c.trimEnd()].join('\n'));
      else if (/^# time=/.test(c)) this.out(c.trimEnd());
    });
  }

  private out(text: string): void {
    this.push(`${text}\n`);
  }

  /**
   * Follows the test points of `p` (depth 0: the test files) and of its subtests. A failed
   * subtest's own test point is left out when a failure inside it was reported already; a file
   * that failed with nothing inside it (a timeout, a crash) reports its own diagnostics.
   * Returns whether anything inside `p` failed.
   */
  private watch(p: Parser, depth: number): () => boolean {
    let failedInside = false;
    let childFailed: (() => boolean) | null = null;
    p.on('child', (c: Parser) => (childFailed = this.watch(c, depth + 1)));
    p.on('assert', (r: Result) => {
      const reported = childFailed?.() ?? false;
      childFailed = null;
      // tap reports a file that ran out of time as a test point of its own, named "timeout!"
      const name = typeof r.diag?.expired === 'string' ? `${r.diag.expired}: ${r.name}` : r.name;
      if (depth === 0) this.out(`${r.ok ? 'ok  ' : 'FAIL'}  ${name.padEnd(44)} ${r.time === null ? '' : `${(r.time / 1000).toFixed(1).padStart(6)} s`}`);
      if (r.skip) this.details.push(`skipped: ${r.fullname}${typeof r.skip === 'string' ? ` (${r.skip})` : ''}`);
      if (r.ok || r.todo) return;
      failedInside = true;
      if (reported) return;
      this.details.push(`not ok: ${r.fullname || name}`);
      // a test file's own diagnostics are how its process was started; only how it ended says anything
      const diag = depth === 0 && r.diag?.command !== undefined ? { exitCode: r.diag.exitCode, signal: r.diag.signal } : r.diag;
      if (diag) this.details.push(...Object.entries(diag).map(([k, v]) => indented(k, v)));
    });
    return () => failedInside;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.parser.write(chunk);
    done();
  }

  override _flush(done: TransformCallback): void {
    this.parser.end();
    done();
  }
}

/** One diagnostic as `    key: value`; text of several lines (a diff, a stack) below its key, as it is. */
function indented(key: string, value: unknown): string {
  if (typeof value === 'string' && value.includes('\n')) return `    ${key}:\n${value.trimEnd().replace(/^/gm, '      ')}`;
  return `    ${key}: ${JSON.stringify(value)}`;
}

export = Report;
