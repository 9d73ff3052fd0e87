import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DashboardServer, startDashboardServer } from '../../dashboard/server.js';
import type { ApiRequest } from '../../functions/dashboard-api/api.js';

/** A raw HTTP call, so the Host and Origin headers are exactly what a test says (fetch would fix them). */
function call(
  server: DashboardServer,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: options.method ?? 'GET', path: options.path, headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('dashboard server', () => {
  let server: DashboardServer;
  const api = vi.fn(async (request: ApiRequest) => ({
    status: 200,
    body: { method: request.method, path: request.path, state: request.query.get('state'), body: request.body },
  }));

  beforeAll(async () => {
    server = await startDashboardServer({ api, port: 0 });
  });

  afterAll(async () => {
    await server.close();
  });

  it('listens on 127.0.0.1 only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves the page, its script and stylesheet with a strict content security policy', async () => {
    const page = await call(server, { path: '/' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="/app.js"></script>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await call(server, { path: '/app.js' })).headers['content-type']).toMatch(/^text\/javascript/);
    expect((await call(server, { path: '/style.css' })).status).toBe(200);
    expect((await call(server, { path: '/../package.json' })).status).toBe(404);
  });

  it('serves the chart library from the installed uplot package, and the chart module imports it from there', async () => {
    const require = createRequire(import.meta.url);
    const script = await call(server, { path: '/vendor/uPlot.esm.js' });
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.body).toBe(readFileSync(require.resolve('uplot/dist/uPlot.esm.js'), 'utf8'));
    const css = await call(server, { path: '/vendor/uPlot.min.css' });
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.body).toContain('.uplot');
    expect((await call(server, { path: '/chart.js' })).body).toContain("import uPlot from '/vendor/uPlot.esm.js';");
    expect((await call(server, { path: '/' })).body).toContain('<link rel="stylesheet" href="/vendor/uPlot.min.css">');
  });

  it('hands API requests to the API function with path, query and body', async () => {
    const response = await call(server, {
      method: 'POST',
      path: '/api/queues/default/redrive?state=dead',
      headers: { 'content-type': 'application/json', origin: server.url.slice(0, -1) },
      body: '{"limit":5}',
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      method: 'POST',
      path: '/api/queues/default/redrive',
      state: 'dead',
      body: '{"limit":5}',
    });
  });

  it('refuses another Host name (DNS rebinding)', async () => {
    const response = await call(server, { path: '/api/overview', headers: { host: 'attacker.example:80' } });
    expect(response.status).toBe(421);
  });

  it('refuses actions from another origin or not sent as JSON', async () => {
    api.mockClear();
    const crossOrigin = await call(server, {
      method: 'POST',
      path: '/api/jobs/x/retry',
      headers: { 'content-type': 'application/json', origin: 'https://attacker.example' },
    });
    expect(crossOrigin.status).toBe(403);
    const form = await call(server, {
      method: 'POST',
      path: '/api/jobs/x/cancel',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect(api).not.toHaveBeenCalled();
  });

  it('refuses a body over 64 KiB', async () => {
    const response = await call(server, {
      method: 'POST',
      path: '/api/queues/default/redrive',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(70_000),
    });
    expect(response.status).toBe(413);
  });
});
