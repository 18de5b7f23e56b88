/**
 * Headless Chromium from the system (never a downloaded browser) driven by puppeteer-core, for
 * the web page's tests and its benchmark: the page served from dist/web on loopback, a URL hook
 * run, every request the page makes recorded.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { servePage, type PageServer } from '../api/serve';

/** The system's Chromium, or undefined when it is not installed. */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** Why the browser tests and benchmark cannot run here, or false. */
export const NO_CHROMIUM = CHROMIUM === undefined ? 'Chromium is not installed (no /usr/bin/chromium); apt-get install chromium to run the browser tests' : false;

/** The flags a closed network needs: no background connections, no first-run work. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps'];

export interface PageSession {
  readonly server: PageServer;
  readonly browser: Browser;
  /** Every URL the pages of this session requested. */
  readonly requests: string[];
  /** Console errors and uncaught exceptions of the pages. */
  readonly errors: string[];
  /** A new tab at the page with `hash` (e.g. "sample=cycles&n=64"), `width` pixels wide. */
  open(hash: string, width?: number): Promise<Page>;
  close(): Promise<void>;
}

/** Serves the built page on a free loopback port and starts headless Chromium. */
export async function startPageSession(): Promise<PageSession> {
  if (CHROMIUM === undefined) throw new Error(NO_CHROMIUM || 'no Chromium');
  const server = await servePage({ port: 0 });
  const profile = mkdtempSync(join(tmpdir(), 'dgmg-chromium-'));
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, userDataDir: profile });
  const requests: string[] = [];
  const errors: string[] = [];
  return {
    server,
    browser,
    requests,
    errors,
    async open(hash, width = 1100) {
      const page = await browser.newPage();
      await page.setViewport({ width, height: 900 });
      page.on('request', (r) => void requests.push(r.url()));
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      page.on('pageerror', (e) => void errors.push(String(e)));
      await page.goto(`${server.url}${hash ? `#${hash}` : ''}`);
      return page;
    },
    async close() {
      await browser.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The title the page ends a URL hook with (anything but the plain "dgmg-pipe"), within `timeoutMs`. */
export async function finalTitle(page: Page, timeoutMs = 300_000): Promise<string> {
  // Page code as text: this side is compiled without the DOM's types.
  await page.waitForFunction("document.title !== 'dgmg-pipe'", { timeout: timeoutMs, polling: 100 });
  return page.title();
}

/** The text behind a download link of the page (its blob), as a user would save it. */
export function downloadText(page: Page, linkId: string): Promise<string> {
  const id = JSON.stringify(linkId);
  return page.evaluate(`(async () => {
    const a = document.getElementById(${id});
    if (!a || a.hidden) throw new Error('no download #' + ${id} + ' offered');
    return (await fetch(a.href)).text();
  })()`) as Promise<string>;
}
