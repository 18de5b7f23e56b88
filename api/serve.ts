import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { PACKAGE_ROOT } from '../pipeline/commands/shared';

/** The built web page (npm run build puts it here). */
export const PAGE_ROOT = join(PACKAGE_ROOT, 'dist', 'web');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface PageServer {
  /** Where the page is, e.g. http://127.0.0.1:8080/ */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the web page's files (a static folder: any static host would do) over HTTP on `host`
 * (loopback unless told otherwise) and `port` (0: a free one). Only files inside `root` are
 * served; anything else is a 404.
 */
export function servePage(o: { port?: number; host?: string; root?: string } = {}): Promise<PageServer> {
  const root = o.root ?? PAGE_ROOT;
  try {
    statSync(join(root, 'index.html'));
  } catch {
    return Promise.reject(new Error(`${root}: no built web page here (index.html is missing); run npm run build`));
  }
  const server = createServer((req, res) => {
    let file = '';
    let ok = req.method === 'GET' || req.method === 'HEAD';
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
      ok &&= file.startsWith(root + sep) && statSync(file).isFile();
    } catch {
      ok = false; // a malformed address, or no such file
    }
    if (!ok) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      resolve({ url: `http://${host}:${port}/`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}
