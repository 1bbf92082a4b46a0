// The library in headless Chromium, through dist/index.browser.js (the .wasm
// inlined): the runtime scenario with createCache, and again with
// createCacheSync on a module from WebAssembly.compileStreaming (the edge
// runtimes' path). Then the browser demo in examples/browser must show sane,
// moving numbers. Pages come from a server on 127.0.0.1, and any request
// the browser makes elsewhere fails the test.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
// @ts-expect-error: plain JS shared with the other runtimes
import { EXPECTED } from './scenario.js';
// @ts-expect-error: the example's plain JS server
import { startDemoServer } from '../../examples/browser/serve.js';
import { haveTool, which, ROOT } from '../support/servers.js';

const CHROMIUM = which('chromium') ?? 'chromium';
const BUDGET = 4 * 1024 * 1024;

// Quiet, offline Chromium: no background services that would phone home.
const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-default-apps', '--disable-sync', '--no-first-run',
  '--metrics-recording-only', '--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider',
];

// The page runs the scenario in the mode its query string names and leaves
// the outcome on window.__result (or the failure on window.__error).
const SCENARIO_PAGE = `<!doctype html>
<link rel="icon" href="data:,">
<script type="module">
import { createCache, createCacheSync } from '/wasmcached.js';
import { runScenario } from '/scenario.js';
try {
  if (new URLSearchParams(location.search).get('mode') === 'sync') {
    const module = await WebAssembly.compileStreaming(fetch('/wasmcached.wasm'));
    window.__result = await runScenario((o) => createCacheSync({ ...o, module }));
  } else {
    window.__result = await runScenario((o) => createCache(o));
  }
} catch (e) {
  window.__error = String((e && e.stack) || e);
}
</script>`;

const ROUTES: Record<string, { type: string; body: () => Promise<string | Buffer> }> = {
  '/': { type: 'text/html; charset=utf-8', body: async () => SCENARIO_PAGE },
  '/wasmcached.js': { type: 'text/javascript', body: () => readFile(join(ROOT, 'dist', 'index.browser.js')) },
  '/scenario.js': { type: 'text/javascript', body: () => readFile(join(ROOT, 'test', 'runtimes', 'scenario.js')) },
  '/wasmcached.wasm': { type: 'application/wasm', body: () => readFile(join(ROOT, 'build', 'wasmcached.wasm')) },
};

function serveScenario(): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(async (req, res) => {
    const route = ROUTES[new URL(req.url ?? '/', 'http://x').pathname];
    if (!route) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': route.type }).end(await route.body());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${port}/`, server });
    });
  });
}

describe.skipIf(!haveTool('chromium'))('the library in headless Chromium', () => {
  let context: BrowserContext | undefined;
  let profile: string | undefined;
  let scenario: { url: string; server: http.Server } | undefined;
  let demo: { url: string; close(): Promise<void> } | undefined;
  const elsewhere: string[] = [];
  let loopback = 0;

  beforeAll(async () => {
    scenario = await serveScenario();
    demo = await startDemoServer(0);
    profile = mkdtempSync(join(tmpdir(), 'wasmcached-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000, viewport: { width: 900, height: 560 },
    });
    context.on('request', (r) => {
      const u = new URL(r.url());
      if (u.protocol === 'data:') return;
      if (u.hostname === '127.0.0.1') loopback++;
      else elsewhere.push(r.url());
    });
  });

  afterAll(async () => {
    await context?.close();
    if (scenario) await new Promise((res) => { scenario!.server.closeAllConnections(); scenario!.server.close(res); });
    await demo?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  // The listener sees the pages' own requests, so an empty list means something.
  function expectOnlyLoopback(): void {
    expect(loopback).toBeGreaterThan(0);
    expect(elsewhere).toEqual([]);
  }

  async function runPage(query: string): Promise<unknown> {
    const page = await context!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      await page.goto(scenario!.url + query);
      await page.waitForFunction(() => (window as any).__result ?? (window as any).__error, null, { timeout: 15_000 });
      const error = await page.evaluate(() => (window as any).__error);
      if (error) throw new Error(`scenario failed in Chromium: ${error}`);
      expect(errors).toEqual([]);
      expectOnlyLoopback();
      return await page.evaluate(() => (window as any).__result);
    } finally {
      await page.close();
    }
  }

  it('createCache: set/get, bytes, TTL, eviction at the budget, fetch coalescing', async () => {
    expect(await runPage('')).toEqual(EXPECTED);
  });

  it('createCacheSync with a module from WebAssembly.compileStreaming', async () => {
    expect(await runPage('?mode=sync')).toEqual(EXPECTED);
  });

  it('the demo page shows a full cache evicting within its budget', async () => {
    const page = await context!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      await page.goto(demo!.url);
      await page.waitForFunction(() => Number(document.body.dataset.evictions) > 0, null, { timeout: 15_000 });
      const shown = await page.evaluate(() => {
        const text = (id: string) => document.getElementById(id)!.textContent ?? '';
        return {
          hitRatio: text('hit-ratio'), items: text('items'), evictions: text('evictions'),
          bytes: text('bytes'), budget: text('budget'), bar: document.getElementById('bytes-bar')!.style.width,
          data: { ...document.body.dataset },
        };
      });
      expect(errors).toEqual([]);
      const number = (s: string) => Number(s.replace(/[^0-9.]/g, ''));
      expect(shown.hitRatio).toMatch(/^\d{1,3}\.\d %$/);
      expect(number(shown.hitRatio)).toBeGreaterThan(0);
      expect(number(shown.hitRatio)).toBeLessThanOrEqual(100);
      expect(number(shown.evictions)).toBeGreaterThan(0);
      expect(number(shown.items)).toBeGreaterThan(0);
      expect(shown.budget).toBe('budget 4.00 MiB');
      expect(shown.bytes).toMatch(/^\d\.\d\d MiB used$/);
      expect(number(shown.bytes)).toBeLessThanOrEqual(4);
      expect(Number(shown.data.bytes)).toBeGreaterThan(0);
      expect(Number(shown.data.bytes)).toBeLessThanOrEqual(BUDGET);
      expect(Number(shown.data.budget)).toBe(BUDGET);
      expect(number(shown.bar)).toBeLessThanOrEqual(100);

      // The loop keeps running: more evictions a moment later.
      const before = Number(shown.data.evictions);
      await page.waitForFunction((n) => Number(document.body.dataset.evictions) > n, before, { timeout: 10_000 });
      expectOnlyLoopback();

      // The screenshot the README shows: taken on every run (a PNG of the
      // viewport's size), written into the repository only on request.
      const png = await page.screenshot();
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      const viewport = page.viewportSize()!;
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([viewport.width, viewport.height]);
      if (process.env.UPDATE_SCREENSHOT === '1') {
        writeFileSync(join(ROOT, 'examples', 'browser', 'screenshot.png'), png);
      }
    } finally {
      await page.close();
    }
  });
});
