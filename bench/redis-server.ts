/**
 * Helpers for the cluster tests and bench/cluster.ts: a throwaway redis-server on a free loopback port (no persistence),
 * and worker host processes (dist/bin/dgmg-pipe.js worker) whose output the tests read.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';

export const CLI = resolve(__dirname, '..', 'bin', 'dgmg-pipe.js');

/** Whether redis-server is installed (.ci/run installs it); tests skip with a message otherwise. */
export function haveRedis(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/** A port nobody listens on right now, on `host`. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

export interface RedisServer {
  readonly port: number;
  readonly host: string;
  /** redis://host:port (without credentials). */
  readonly url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server --port P --bind HOST --save '' --appendonly no` plus `extra` arguments and
 * resolves once it accepts connections. `port` (default: a free one) lets a test restart a server
 * on the same port.
 */
export async function startRedis(opts: { host?: string; port?: number; extra?: string[]; wrap?: string[] } = {}): Promise<RedisServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const args = ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', ...(opts.extra ?? [])];
  const [cmd, ...pre] = [...(opts.wrap ?? []), 'redis-server'];
  const child = spawn(cmd, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((ready, fail) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) ready();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => fail(new Error(`redis-server exited (${code}) before it was ready:\n${out}`)));
  });
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  return {
    port,
    host,
    url: `redis://${host}:${port}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface Proc {
  readonly child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves when stderr matches `re` (rejects if the process exits first). */
  waitFor(re: RegExp): Promise<void>;
  /** The exit code (null: killed by a signal) and signal. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the CLI (or `opts.script`) with `args`, `wrap` in front (e.g. ip netns exec NS). */
export function runCli(args: string[], opts: { env?: Record<string, string>; wrap?: string[]; script?: string } = {}): Proc {
  const [cmd, ...pre] = [...(opts.wrap ?? []), process.execPath];
  const child = spawn(cmd, [...pre, opts.script ?? CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let err = '';
  let out = '';
  const waiters: Array<{ re: RegExp; done: () => void }> = [];
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) if (w.re.test(err)) (waiters.splice(waiters.indexOf(w), 1), w.done());
  });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    waitFor: (re) =>
      re.test(err)
        ? Promise.resolve()
        : new Promise<void>((done, fail) => {
            waiters.push({ re, done });
            void exit.then(({ code, signal }) => fail(new Error(`process exited (${code ?? signal}) before stderr matched ${re}:\n${err}`)));
          }),
    exit,
  };
}

/** Starts `n` worker hosts against `url` (one thread each unless `extra` says --threads) and waits until each is connected. */
export async function startWorkers(n: number, url: string, extra: string[] = [], opts: { env?: Record<string, string>; wrap?: string[]; script?: string } = {}): Promise<Proc[]> {
  const threads = extra.includes('--threads') ? [] : ['--threads', '1'];
  const ws = Array.from({ length: n }, () => runCli(['worker', '--redis', url, ...threads, ...extra], opts));
  await Promise.all(ws.map((w) => w.waitFor(/connected to /)));
  return ws;
}

/** SIGTERM to each worker still running; resolves when all have exited. */
export async function stopWorkers(ws: readonly Proc[]): Promise<void> {
  for (const w of ws) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await Promise.all(ws.map((w) => w.exit));
}

/** The queue's own keys (one per queue, not per job): `bull:dgmg-pipe:wait`, `:meta`, `:events`, ... */
const QUEUE_METADATA = /^bull:dgmg-pipe:[a-z-]+$/;

/**
 * What `db` keeps for good of the cluster's runs: every key without a TTL that is not the queue's
 * own metadata (a job hash, a dgmg:* blob), and every job still listed in the queue's lists and
 * sets; each as `key` or `list: job id`. Empty once every run has cleaned up after itself.
 */
export async function leftovers(db: Redis): Promise<string[]> {
  const out: string[] = [];
  for (const key of await db.keys('*')) {
    if (QUEUE_METADATA.test(key)) continue;
    if ((await db.pttl(key)) < 0) out.push(key);
  }
  for (const list of ['wait', 'active', 'paused']) for (const id of await db.lrange(`bull:dgmg-pipe:${list}`, 0, -1)) out.push(`${list}: ${id}`);
  for (const set of ['delayed', 'prioritized', 'completed', 'failed', 'waiting-children']) for (const id of await db.zrange(`bull:dgmg-pipe:${set}`, '0', '-1')) out.push(`${set}: ${id}`);
  return out;
}
