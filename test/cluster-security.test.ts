/**
 * The cluster over an authenticated and an encrypted Redis (password, ACL user, TLS with a
 * throwaway self-signed certificate), and with worker hosts in network namespaces of their own
 * (veth pairs and 10.213.x.y/30 addresses made by this test, removed at the end). A wrong
 * password, none, or an ACL user without the commands ends a coordinator or a worker at once
 * with one line.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { freePort, haveRedis, runCli, startRedis, startWorkers, stopWorkers, type Proc } from '../bench/redis-server';

const dir = mkdtempSync(join(tmpdir(), 'dgmg-cluster-security-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

// 40 small cycles, batches of 10, 1 epoch: 4 steps of 2 shards.
const configFile = join(dir, 'config.json');
writeFileSync(
  configFile,
  JSON.stringify({
    data: { family: 'cycles', familyParams: { minNodes: 5, maxNodes: 12 }, trainSize: 40, testSize: 10 },
    train: { epochs: 1, batchSize: 10, lr: 0.005, clipNorm: 1, seed: 3, checkpointEvery: 2 },
  }),
);
const trainArgs = (out: string, extra: string[] = []): string[] => ['train', '--config', configFile, '--out', join(dir, out), '--workers', '2', '--json', '--quiet', ...extra];
const finished = async (p: Proc): Promise<void> => {
  const { code } = await p.exit;
  if (code !== 0) throw new Error(`exit ${code}:\n${p.stderr()}`);
};

/** Trains through the cluster at `url` with worker hosts started by `workers`; the checkpoint must equal the local run's. */
async function clusterRun(t: Test, name: string, url: string, extra: string[], workers: () => Promise<Proc[]>): Promise<Proc[]> {
  const ws = await workers();
  try {
    await finished(runCli(trainArgs(name, ['--redis', url, ...extra])));
  } finally {
    await stopWorkers(ws);
  }
  const a = loadCheckpoint(join(dir, 'local', 'checkpoint.json'));
  const b = loadCheckpoint(join(dir, name, 'checkpoint.json'));
  t.equal(b.step, 4);
  t.ok(Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer)) && Buffer.from(a.adam.m.buffer).equals(Buffer.from(b.adam.m.buffer)), `${name}: checkpoint equal bit for bit to the local run`);
  return ws;
}

t.test('setup', { skip: haveRedis() ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run does it)' }, async (t) => {
  await finished(runCli(trainArgs('local')));

  /**
   * `p` exited 1 having printed one line, which matches `re` (after the line saying it connected:
   * a user without some commands learns it from the first one refused).
   */
  const refusedAtOnce = async (t: Test, p: Proc, re: RegExp): Promise<void> => {
    t.equal((await p.exit).code, 1, 'exit status 1');
    const lines = p.stderr().trim().split('\n').filter((l) => !/: connected to /.test(l));
    t.equal(lines.length, 1, `one line:\n${p.stderr()}`);
    t.match(lines[0], re);
  };

  t.test('a password (requirepass) in the URL; a wrong one or none ends a coordinator or a worker at once, with one line', async (t) => {
    const redis = await startRedis({ extra: ['--requirepass', 's3cret'] });
    try {
      const url = `redis://:s3cret@127.0.0.1:${redis.port}`;
      await clusterRun(t, 'password', url, [], () => startWorkers(1, url));
      // the default --redis-timeout (60 s) is not waited for: no reconnect cures a wrong password
      const wrong = runCli(trainArgs('wrong', ['--redis', `redis://:guess@127.0.0.1:${redis.port}`]));
      await refusedAtOnce(t, wrong, /^dgmg-pipe: Redis at redis:\/\/127\.0\.0\.1:\d+ refused access \(WRONGPASS invalid username-password pair or user is disabled\); check the user and password in the URL$/);
      t.notMatch(wrong.stderr(), /guess/, 'the password is not printed');
      const worker = runCli(['worker', '--redis', `redis://:guess@127.0.0.1:${redis.port}`, '--threads', '1']);
      await refusedAtOnce(t, worker, /^dgmg-pipe: Redis at redis:\/\/127\.0\.0\.1:\d+ refused access \(WRONGPASS [^)]*\); check the user and password in the URL$/);
      const none = runCli(['worker', '--redis', redis.url, '--threads', '1']);
      await refusedAtOnce(t, none, /refused access \(NOAUTH [^)]*\); check the user and password in the URL/);
    } finally {
      await redis.stop();
    }
  });

  t.test('an ACL user without the commands BullMQ needs ends a coordinator or a worker at once, with one line', async (t) => {
    const redis = await startRedis({ extra: ['--user', 'default', 'off', '--user', 'reader', 'on', '>pw-of-reader', '~*', '+@connection', '+get', '+info'] });
    try {
      const url = `redis://reader:pw-of-reader@127.0.0.1:${redis.port}`;
      const perm = /^dgmg-pipe: Redis at redis:\/\/reader@127\.0\.0\.1:\d+ refused access \(NOPERM [^)]*\); give the URL's user the commands BullMQ needs \(e\.g\. \+@all ~\* &\*\)$/;
      await refusedAtOnce(t, runCli(['worker', '--redis', url, '--threads', '1']), perm);
      await refusedAtOnce(t, runCli(trainArgs('noperm', ['--redis', url])), perm);
    } finally {
      await redis.stop();
    }
  });

  t.test('an ACL user, with the default user switched off', async (t) => {
    const redis = await startRedis({ extra: ['--user', 'default', 'off', '--user', 'dgmg', 'on', '>pw-of-dgmg', '~*', '&*', '+@all'] });
    try {
      const url = `redis://dgmg:pw-of-dgmg@127.0.0.1:${redis.port}`;
      await clusterRun(t, 'acl', url, [], () => startWorkers(1, url));
    } finally {
      await redis.stop();
    }
  });

  t.test('TLS (rediss://) with a self-signed certificate given as --redis-ca', async (t) => {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    t.equal(made.status, 0, made.status === 0 ? "openssl made a self-signed certificate" : `openssl failed: ${made.stderr}`);
    const port = await freePort();
    let redis;
    try {
      redis = await startRedis({ extra: ['--port', '0', '--tls-port', String(port), '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no'] });
    } catch (e) {
      if (!/Bad directive|tls/i.test((e as Error).message)) throw e;
      t.skip(`this redis-server cannot serve TLS: ${(e as Error).message.split('\n').find((l) => /Bad directive|tls/i.test(l))}`, () => undefined);
      return;
    }
    try {
      const url = `rediss://127.0.0.1:${port}`;
      await clusterRun(t, 'tls', url, ['--redis-ca', cert], () => startWorkers(1, url, ['--redis-ca', cert]));
      const untrusted = runCli(trainArgs('untrusted', ['--redis', url, '--redis-timeout', '1']));
      t.equal((await untrusted.exit).code, 1, 'without the CA the server is not trusted');
      t.match(untrusted.stderr(), /lost Redis at rediss:\/\/127\.0\.0\.1:\d+ \(.*(self-signed|certificate).*\)/i);
    } finally {
      await redis.stop();
    }
  });

  t.test('worker hosts in network namespaces of their own, Redis on the host ends of their veth pairs', async (t) => {
    const id = process.pid % 10000;
    const x = process.pid % 250;
    const nets = [0, 1].map((i) => ({ ns: `dgmgt${id}${'ab'[i]}`, host: `dgh${id}${'ab'[i]}`, peer: `dgp${id}${'ab'[i]}`, hostIp: `10.213.${x}.${4 * i + 1}`, peerIp: `10.213.${x}.${4 * i + 2}` }));
    const ip = (...args: string[]): boolean => spawnSync('ip', args).status === 0;
    const cleanup = (): void => {
      for (const n of nets) {
        ip('netns', 'del', n.ns);
        ip('link', 'del', n.host);
      }
    };
    t.teardown(cleanup);
    const made = nets.every(
      (n) =>
        ip('netns', 'add', n.ns) &&
        ip('link', 'add', n.host, 'type', 'veth', 'peer', 'name', n.peer) &&
        ip('link', 'set', n.peer, 'netns', n.ns) &&
        ip('addr', 'add', `${n.hostIp}/30`, 'dev', n.host) &&
        ip('link', 'set', n.host, 'up') &&
        ip('netns', 'exec', n.ns, 'ip', 'addr', 'add', `${n.peerIp}/30`, 'dev', n.peer) &&
        ip('netns', 'exec', n.ns, 'ip', 'link', 'set', n.peer, 'up'),
    );
    if (!made) {
      cleanup();
      t.skip('network namespaces cannot be made here (needs root and ip netns)', () => undefined);
      return;
    }
    // A password, as Redis reachable from other hosts needs (its protected mode refuses them otherwise).
    const redis = await startRedis({ host: nets[0].hostIp, extra: ['--bind', ...nets.map((n) => n.hostIp), '--requirepass', 'netns-pw'] });
    try {
      const url = (host: string): string => `redis://:netns-pw@${host}:${redis.port}`;
      const ws = await clusterRun(t, 'netns', url(nets[0].hostIp), [], () =>
        Promise.all(nets.map((n) => startWorkers(1, url(n.hostIp), ['--verbose'], { wrap: ['ip', 'netns', 'exec', n.ns] }))).then((a) => a.flat()),
      );
      t.ok(ws.every((w) => /: done in/.test(w.stderr())), 'both namespaced hosts computed shards');
    } finally {
      await redis.stop();
    }
  });
});
