// Serves the browser demo on 127.0.0.1: the page, its script, and the
// library bundle (dist/index.browser.js, built by `npm run build`) as
// /wasmcached.js. Usage: node examples/browser/serve.js [--port N]
// (default: a port the OS picks); prints the URL to open.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

const ROUTES = {
  '/': { file: join(HERE, 'index.html'), type: 'text/html; charset=utf-8' },
  '/demo.js': { file: join(HERE, 'demo.js'), type: 'text/javascript' },
  '/wasmcached.js': { file: join(ROOT, 'dist', 'index.browser.js'), type: 'text/javascript' },
};

/** Starts the demo server; resolves to { url, close() }. */
export function startDemoServer(port = 0) {
  const server = http.createServer(async (req, res) => {
    const route = ROUTES[new URL(req.url ?? '/', 'http://x').pathname];
    if (!route) { res.writeHead(404).end(); return; }
    try {
      const body = await readFile(route.file);
      res.writeHead(200, { 'Content-Type': route.type, 'Cache-Control': 'no-store' }).end(body);
    } catch (e) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(e));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address();
      resolve({
        url: `http://127.0.0.1:${bound}/`,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--port');
  const port = i >= 0 ? Number(process.argv[i + 1]) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('usage: node examples/browser/serve.js [--port N]');
    process.exit(2);
  }
  const { url } = await startDemoServer(port);
  console.log(`wasmcached browser demo: ${url}`);
}
