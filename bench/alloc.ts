import { Session } from 'node:inspector';
import { encodeSequences, decodeSequences } from '../actors/protocol';
import { DEFAULT_MODEL, initParams, paramLayout } from '../model/params';
import { shardGradients } from '../model/teacher';
import { cycles } from './throughput';

/**
 * What a training worker allocates on the JavaScript heap per shard (its numbers live in one
 * WebAssembly memory reused by every step, so this is the garbage a step leaves the collector):
 * V8's sampling heap profiler over `SHARDS` shards of 128 cycles, as a worker receives them
 * (decoded from the transport's flat arrays), the bytes and the functions that allocate most.
 * `node dist/bench/alloc.js [--json]`.
 */

const SHARDS = 20;

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

function post<T>(session: Session, method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res as T))));
}

async function main(): Promise<void> {
  const layout = paramLayout(DEFAULT_MODEL);
  const params = initParams(layout, 0);
  const shard = encodeSequences(cycles(128, 7));
  for (let i = 0; i < 5; i++) shardGradients(DEFAULT_MODEL, layout, params, decodeSequences(shard)); // warm-up: the arena reaches its size
  const session = new Session();
  session.connect();
  await post(session, 'HeapProfiler.enable');
  // every allocation counts, also those a young collection frees at once
  await post(session, 'HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  for (let i = 0; i < SHARDS; i++) shardGradients(DEFAULT_MODEL, layout, params, decodeSequences(shard));
  const { profile } = await post<{ profile: { head: ProfileNode } }>(session, 'HeapProfiler.stopSampling');
  session.disconnect();
  const bySite = new Map<string, number>();
  const visit = (n: ProfileNode): void => {
    if (n.selfSize > 0) {
      const where = n.callFrame.url ? `${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}` : '(native)';
      const site = `${n.callFrame.functionName || '(anonymous)'} ${where}`;
      bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
    }
    n.children.forEach(visit);
  };
  visit(profile.head);
  const kb = (bytes: number): number => Math.round(bytes / SHARDS / 1024);
  const total = [...bySite.values()].reduce((a, b) => a + b, 0);
  const top = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([site, bytes]) => ({ site, kbPerShard: kb(bytes) }));
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ shards: SHARDS, graphsPerShard: 128, kbPerShard: kb(total), top })}\n`);
    return;
  }
  process.stdout.write(`JavaScript heap allocated per shard of 128 cycles (${SHARDS} shards, sampled): ${kb(total)} KB\n`);
  for (const t of top) process.stdout.write(`${String(t.kbPerShard).padStart(7)} KB  ${t.site}\n`);
}

void main();
