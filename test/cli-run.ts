import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

/** The built command line, as the tests run it. */
export const BIN = resolve(__dirname, '..', 'bin', 'dgmg-pipe.js');

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `dgmg-pipe ARGS...` to its end in folder `cwd` (killed after `timeoutMs`). */
export function cliIn(cwd: string, timeoutMs = 300_000): (...args: string[]) => CliResult {
  return (...args) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, timeout: timeoutMs });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
}
