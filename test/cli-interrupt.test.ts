/**
 * Ctrl-C (or SIGTERM) in the middle of `sample` leaves no temporary file and no partial output, a
 * file that was there untouched, one line saying so, and the signal's exit status.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from '../bench/redis-server';

const dir = mkdtempSync(join(tmpdir(), 'dgmg-cli-interrupt-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const temporaries = (name: string): string[] => readdirSync(dir).filter((f) => f.startsWith(`${name}.tmp-`));
/** Bytes in `file` so far; 0 when it is not there. */
const size = (file: string): number => statSync(file, { throwIfNoEntry: false })?.size ?? 0;

for (const [workers, signal, status] of [
  [1, 'SIGINT', 130],
  [2, 'SIGTERM', 143],
] as const) {
  t.test(`${signal} while sample --workers ${workers} is writing: exit ${status}, no temporary file, the old file untouched`, async (t) => {
    const name = `X-${workers}.jsonl`;
    const out = join(dir, name);
    const before = '{"num_nodes": 1, "edges": []}\n';
    writeFileSync(out, before);
    // 200,000 graphs take minutes: the signal comes mid-write.
    const p = runCli(['sample', '--n', '200000', '--out', out, '--workers', String(workers), '--quiet']);
    let exited = false;
    void p.exit.then(() => (exited = true));
    const tmp = join(dir, `${name}.tmp-${p.child.pid}`);
    while (!exited && size(tmp) === 0) await sleep(20);
    t.ok(size(tmp) > 0, 'graphs are being written into the temporary file');
    p.child.kill(signal);
    const { code } = await p.exit;
    t.equal(code, status, `exit status ${status}`);
    t.equal(p.stderr(), `dgmg-pipe: ${signal}: stopped before the end; nothing written\n`, 'one line');
    t.equal(p.stdout(), '', 'no report');
    t.same(temporaries(name), [], 'no temporary file left');
    t.equal(readFileSync(out, 'utf8'), before, 'the previous file is untouched');
  });
}

t.test('a process that exits while a file is being written leaves no temporary file', async (t) => {
  const atomic = resolve(__dirname, '..', 'pipeline', 'atomic.js');
  const out = join(dir, 'exit.txt');
  const script = `const { AtomicFile } = require(${JSON.stringify(atomic)}); const f = new AtomicFile(${JSON.stringify(out)}, 'notes'); f.append('half'); process.exit(3);`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  t.equal(r.status, 3, r.stderr);
  t.same(readdirSync(dir).filter((f) => f.startsWith('exit.txt')), [], 'neither the file nor its temporary');
});
