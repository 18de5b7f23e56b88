/**
 * setImmediate for the page: the training stream (pipeline/train.ts) and its pulled source
 * (pipeline/flow.ts) hand each step to a fresh turn of the event loop with it. A MessageChannel
 * message is such a turn without setTimeout's clamping to 4 ms, which would cap training at 250
 * steps a second.
 */
const callbacks = new Map<number, () => void>();
let nextId = 1;
const channel = new MessageChannel();
channel.port1.onmessage = (e: MessageEvent<number>) => {
  const f = callbacks.get(e.data);
  callbacks.delete(e.data);
  f?.();
};

const g = globalThis as unknown as { setImmediate?: unknown; clearImmediate?: unknown };
g.setImmediate ??= (f: () => void): number => {
  const id = nextId++;
  callbacks.set(id, f);
  channel.port2.postMessage(id);
  return id;
};
g.clearImmediate ??= (id: number): void => void callbacks.delete(id);
