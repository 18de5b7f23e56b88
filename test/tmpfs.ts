import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real full disk is a small tmpfs, which only root may mount. Where mounting fails this is the
 * reason, given as the `skip` of the tests that need one so that they count as skipped, not
 * passed; false where mounting works.
 */
export const noTmpfs: string | false = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'dgmg-tmpfs-probe-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', probe], { encoding: 'utf8' });
  if (r.status === 0) spawnSync('umount', [probe]);
  rmdirSync(probe);
  return r.status === 0 ? false : `mount -t tmpfs failed (${(r.stderr || r.error?.message || '').trim()}); only root can make a small full disk`;
})();

/** Mounts a tmpfs with `options` (e.g. `size=64k`, `ro`) on the folder `dir`, unmounted when `t` ends. */
export function mountTmpfs(t: { teardown: (fn: () => void) => void }, dir: string, options: string): string {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount -t tmpfs -o ${options} ${dir}: ${(r.stderr || r.error?.message || '').trim()}`);
  t.teardown(() => void spawnSync('umount', [dir]));
  return dir;
}
