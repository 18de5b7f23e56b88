/**
 * Progress of long work: a redrawn bar on a TTY, otherwise one JSON line per interval, both on
 * stderr so that stdout stays free for results (--json).
 */
export interface Progress {
  /** `done` of `total` units; `fields` are shown beside the bar and written into the JSON line. */
  update(done: number, total: number, fields: Readonly<Record<string, number | string>>): void;
  /** Ends the bar's line. */
  finish(): void;
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;
}

export function progress(label: string, opts: { tty?: boolean; intervalMs?: number; quiet?: boolean } = {}): Progress {
  const tty = opts.tty ?? Boolean(process.stderr.isTTY);
  const interval = opts.intervalMs ?? (tty ? 200 : 10_000);
  const started = Date.now();
  let last = -Infinity;
  let drawn = false;
  return {
    update(done, total, fields) {
      const now = Date.now();
      if (opts.quiet || (now - last < interval && done < total)) return;
      last = now;
      const elapsed = (now - started) / 1000;
      const eta = done > 0 ? (elapsed * (total - done)) / done : Infinity;
      if (tty) {
        const width = 24;
        const filled = Math.round((width * done) / Math.max(total, 1));
        const extra = Object.entries(fields).map(([k, v]) => `${k} ${v}`).join('  ');
        process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}  ${extra}  ETA ${formatDuration(eta)}\x1b[K`);
        drawn = true;
      } else {
        process.stderr.write(`${JSON.stringify({ progress: label, done, total, elapsed_s: +elapsed.toFixed(1), eta_s: Number.isFinite(eta) ? +eta.toFixed(0) : null, ...fields })}\n`);
      }
    },
    finish() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}
