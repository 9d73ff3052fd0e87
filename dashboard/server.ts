import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ApiRequest, ApiResponse } from '../functions/dashboard-api/api.js';

/** The static files of the web app, served from memory. */
const ASSETS = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/metrics.js': { file: 'metrics.js', type: 'text/javascript; charset=utf-8' },
  '/enqueue-form.js': { file: 'enqueue-form.js', type: 'text/javascript; charset=utf-8' },
  '/chart.js': { file: 'chart.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
} as const;

/** The chart library, resolved from the installed `uplot` package (a dependency), not copied into public/. */
const VENDOR_ASSETS = {
  '/vendor/uPlot.esm.js': { module: 'uplot/dist/uPlot.esm.js', type: 'text/javascript; charset=utf-8' },
  '/vendor/uPlot.min.css': { module: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
} as const;

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const MAX_BODY_BYTES = 64 * 1024;

export interface DashboardServerOptions {
  /** The JSON API (see `createDashboardApi`). */
  readonly api: (request: ApiRequest) => Promise<ApiResponse>;
  /** @default 8080; 0 picks a free port */
  readonly port?: number;
  /** Loopback only by default: the dashboard acts on jobs with your credentials and has no login of its own. */
  readonly host?: string;
}

export interface DashboardServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the web dashboard and its API with node:http.
 *
 * Because it acts with the operator's AWS credentials and has no login, it
 * listens on 127.0.0.1 only, answers only requests addressed to that host (a
 * DNS-rebinding page cannot reach it under another name), and takes actions
 * (POST) only as JSON from its own origin, so another site open in the same
 * browser cannot submit a form or a simple request to it.
 *
 * @example
 * const server = await startDashboardServer({ api, port: 8080 });
 * console.log(`dashboard on ${server.url}`);
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1';
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const [path, { file, type }] of Object.entries(ASSETS)) {
    assets.set(path, { body: await readFile(`${PUBLIC_DIR}${file}`), type });
  }
  const require = createRequire(import.meta.url);
  for (const [path, { module, type }] of Object.entries(VENDOR_ASSETS)) {
    assets.set(path, { body: await readFile(require.resolve(module)), type });
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, 500, { error: { name: 'InternalError', message: (error as Error).message } });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { port } = server.address() as AddressInfo;
    const allowedHosts = new Set([`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`]);
    if (!allowedHosts.has(request.headers.host ?? '')) {
      send(response, 421, { error: { name: 'MisdirectedRequest', message: `unexpected Host '${request.headers.host}'` } });
      return;
    }
    const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
    const method = request.method ?? 'GET';
    if (!url.pathname.startsWith('/api/')) {
      const asset = assets.get(url.pathname);
      if (!asset || (method !== 'GET' && method !== 'HEAD')) {
        send(response, 404, { error: { name: 'NotFound', message: `no page ${url.pathname}` } });
        return;
      }
      response.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store', ...SECURITY_HEADERS });
      response.end(method === 'HEAD' ? undefined : asset.body);
      return;
    }
    if (method === 'POST') {
      const origin = request.headers.origin;
      if (origin !== undefined && !allowedHosts.has(origin.replace(/^https?:\/\//, ''))) {
        send(response, 403, { error: { name: 'Forbidden', message: `cross-origin request from ${origin}` } });
        return;
      }
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
        send(response, 415, { error: { name: 'UnsupportedMediaType', message: 'actions take application/json' } });
        return;
      }
    }
    const body = await readBody(request);
    if (body === undefined) {
      send(response, 413, { error: { name: 'PayloadTooLarge', message: `request body over ${MAX_BODY_BYTES} bytes` } });
      return;
    }
    const result = await options.api({ method, path: url.pathname, query: url.searchParams, body });
    send(response, result.status, result.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...SECURITY_HEADERS,
  });
  response.end(JSON.stringify(body));
}

/** The request body as text, or undefined when it is over the limit. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
