import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SECURITY_HEADERS } from '../../scripts/csp.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

const BEFORE_APP = '/__before-app.js';

interface StaticServerOptions {
  /**
   * Send WhyCam's security headers, cross-origin isolation included (the default), or none, as a
   * host that cannot set headers would: then the service worker adds isolation after the first visit.
   */
  headers?: 'security' | 'none';
  /** A fixed port (default: any free one); a restarted server keeps its origin, and so its service worker. */
  port?: number;
  /**
   * Tests: a script run before the app in every page served (`/__before-app.js`, first in the
   * head), as WebDriver classic has no "evaluate on new document".
   */
  beforeApp?: string;
}

/**
 * A plain static host (as a school intranet server would be) whose folder can be swapped while it
 * runs: serves one build, then another, to test updates.
 */
export class StaticServer {
  private server: http.Server | null = null;

  constructor(
    public root: string,
    private readonly options: StaticServerOptions = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const secure = (): void => {
        if (this.options.headers !== 'none') for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
      };
      if (this.options.beforeApp !== undefined && pathname === BEFORE_APP) {
        secure();
        res.setHeader('Content-Type', TYPES['.js']!);
        res.end(this.options.beforeApp);
        return;
      }
      let file = path.join(this.root, pathname);
      if (!file.startsWith(this.root)) {
        res.statusCode = 403;
        res.end();
        return;
      }
      if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
      if (!fs.existsSync(file)) {
        // Navigations fall back to the app; anything else is a plain 404.
        if ((req.headers.accept ?? '').includes('text/html')) file = path.join(this.root, 'index.html');
        else {
          res.statusCode = 404;
          res.end('not found');
          return;
        }
      }
      secure();
      res.setHeader('Content-Type', TYPES[path.extname(file)] ?? 'application/octet-stream');
      res.setHeader('Cache-Control', 'no-cache');
      if (this.options.beforeApp !== undefined && file.endsWith('.html')) {
        const html = fs.readFileSync(file, 'utf8');
        res.end(html.replace('<head>', `<head><script src="${BEFORE_APP}"></script>`));
        return;
      }
      fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.options.port ?? 0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    // Open keep-alive connections would hold the port (and let a "stopped" server answer).
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
