import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { killApps, type RunningApp, startApp } from '../support/app-process.js';
import { get } from '../support/http.js';
import { keepAliveLoad } from '../support/load.js';

const fixture = new URL('./app.mjs', import.meta.url).pathname;
const frameworks = ['node', 'express4', 'express5', 'koa2', 'koa3', 'fastify'] as const;
const traceRoot = '1-5759e988-bd862e3fe1be46a994272793';
const tlsCa = readFileSync(new URL('../fixtures/tls/cert.pem', import.meta.url));

afterEach(killApps);

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const otel = { TRACING: JSON.stringify({ mode: 'otel' }), OTEL_TRACES_EXPORTER: 'none' };

/** A server on 127.0.0.1 that answers every request with the headers it received, as JSON. */
const echo = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(req.headers));
});
let echoUrl = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/echo`;
});
afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

function start(framework: string, env: Record<string, string> = {}): Promise<RunningApp> {
  return startApp(fixture, { FRAMEWORK: framework, GREETING_VALUE: `hello from ${framework}`, ...env });
}

/** `/healthz` and `/readyz` of `app` answer 200, as App Runner's health check reads them. */
async function expectHealthy(app: RunningApp): Promise<void> {
  const live = await get(`${app.url}/healthz`);
  expect(live.status).toBe(200);
  expect(live.headers['content-type']).toBe('application/health+json');
  const ready = await get(`${app.url}/readyz`);
  expect(ready.status).toBe(200);
  expect(JSON.parse(ready.body).status).toBe('pass');
}

/**
 * `runs` SIGTERMs of the app under 32 keep-alive connections of `/hello`, `signalAfterMs` into the
 * load; each run must exit 0 having served more than 32 requests. Returns, per run, the requests
 * that failed although sent on an already-open connection.
 */
async function shutdownsUnderLoad(
  framework: string,
  runs: number,
  env: Record<string, string>,
  signalAfterMs: number,
  ca?: Buffer,
): Promise<number[]> {
  const failures: number[] = [];
  for (let run = 0; run < runs; run++) {
    const app = await start(framework, env);
    const exited = app.exit(0);
    const load = keepAliveLoad(app.port, {
      connections: 32,
      until: exited,
      maxMs: 8_000,
      path: '/hello',
      ...(ca === undefined ? {} : { tlsCa: ca }),
    });
    await new Promise((resolve) => setTimeout(resolve, signalAfterMs));
    app.signal('SIGTERM');
    const report = await load;
    expect((await exited).code).toBe(0);
    expect(report.succeeded).toBeGreaterThan(32);
    failures.push(report.failedOnOpenConnections);
  }
  return failures;
}

describe.each(frameworks)('%s', (framework) => {
  it('serves routes, with the route pattern on the request line', async () => {
    const app = await start(framework);
    const response = await get(`${app.url}/notes/42`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ id: '42' });
    const line = await app.waitForLine((l) => l.msg === 'request completed' && l.path === '/notes/42');
    if (framework !== 'node') expect(line.route).toBe('/notes/:id');
    expect(line.statusCode).toBe(200);
    if (framework === 'node') return; // its listener writes a chunked response: no length to log
    expect(line.bytes).toBe(Buffer.byteLength(response.body));
    // A route of a router mounted under a parameter: the pattern, never the tenant's name.
    const nested = await get(`${app.url}/api/tenants/acme/notes/7`);
    expect(JSON.parse(nested.body)).toEqual({ id: '7' });
    const nestedLine = await app.waitForLine((l) => l.path === '/api/tenants/acme/notes/7');
    expect(nestedLine.route).toBe('/api/tenants/:tenant/notes/:id');
  });

  // Fastify forbids new routes once ready(): there is nothing to conform to.
  it.skipIf(framework === 'fastify')('serves a route registered after the bootstrap', async () => {
    const app = await start(framework);
    const response = await get(`${app.url}/late`);
    expect(response.status).toBe(200);
    expect(response.body).toBe('late');
  });

  it.runIf(framework.startsWith('express'))(
    "names a middleware mounted on a path (a GraphQL server's app.use('/graphql', …)) by the mount's pattern",
    async () => {
      const app = await start(framework);
      for (const tenant of ['acme', 'beta'])
        expect((await get(`${app.url}/t/${tenant}/graphql?query=%7Bhello%7D`)).status).toBe(200);
      const lines = await Promise.all(
        ['acme', 'beta'].map((tenant) =>
          app.waitForLine((l) => l.path === `/t/${tenant}/graphql` && l.statusCode !== undefined),
        ),
      );
      expect(lines.map((l) => l.route)).toEqual(['/t/:tenant/graphql', '/t/:tenant/graphql']);
      // The app's catch-all 404, a middleware on /, has none.
      await get(`${app.url}/t/acme/other`);
      expect((await app.waitForLine((l) => l.path === '/t/acme/other')).route).toBeUndefined();
    },
  );

  it.runIf(framework.startsWith('express'))(
    "names a request whose error left a mounted middleware or router before any route by the mount's pattern",
    async () => {
      const app = await start(framework);
      const sent = [
        ['/t/acme/graphql-down', 500, '/t/:tenant/graphql-down'],
        ['/t/beta/graphql-down', 500, '/t/:tenant/graphql-down'],
        ['/v/1/notes/7', 403, '/v/:version'],
      ] as const;
      for (const [path, status] of sent) expect((await get(`${app.url}${path}`)).status).toBe(status);
      const lines = await Promise.all(
        sent.map(([path]) => app.waitForLine((l) => l.path === path && l.statusCode !== undefined)),
      );
      expect(lines.map((l) => [l.path, l.statusCode, l.route])).toEqual(sent);
    },
  );

  it("keeps /healthz and /readyz in front of the app's catch-all 404", async () => {
    const app = await start(framework);
    expect((await get(`${app.url}/nowhere`)).body).toBe('custom 404');
    await expectHealthy(app);
  });

  it("answers /healthz and /readyz in front of the app's global auth, which answers 401 to everything else", async () => {
    const app = await start(framework, { AUTH: '1' });
    expect((await get(`${app.url}/hello`)).status).toBe(401);
    await expectHealthy(app);
    expect((await get(`${app.url}/hello`, { headers: { authorization: 'Bearer conformance' } })).status).toBe(
      200,
    );
  });

  it("echoes the request id of a request the app's global auth answers 401, and writes its request line", async () => {
    const app = await start(framework, { AUTH: '1' });
    const response = await get(`${app.url}/hello`, { headers: { 'x-request-id': `auth-${framework}` } });
    expect(response.status).toBe(401);
    expect(response.headers['x-request-id']).toBe(`auth-${framework}`);
    const line = await app.waitForLine((l) => l.requestId === `auth-${framework}` && l.path === '/hello');
    expect(line).toMatchObject({ msg: 'request completed', statusCode: 401 });
  });

  it("writes the lines of the app's global auth (Fastify: a root onRequest hook) in the request's context", async () => {
    const app = await start(framework, { AUTH: '1' });
    await get(`${app.url}/hello`, {
      headers: { 'x-request-id': `in-auth-${framework}`, authorization: 'Bearer conformance' },
    });
    await get(`${app.url}/hello`, { headers: { 'x-request-id': `out-auth-${framework}` } });
    await app.waitForLine((l) => l.requestId === `out-auth-${framework}` && l.path === '/hello');
    const authLines = app.lines.filter((l) => l.msg === 'auth line');
    expect(authLines.map((l) => l.requestId)).toEqual([`in-auth-${framework}`, `out-auth-${framework}`]);
  });

  it('turns a sync route error into a 500 without a stack, logged, after the app error handler', async () => {
    const app = await start(framework);
    const response = await get(`${app.url}/boom`);
    expect(response.status).toBe(500);
    expect(response.body).not.toMatch(/at .*\(|\.mjs|boom/);
    expect(response.headers['x-app-error-handler']).toBe('1');
    if (framework !== 'node') {
      const line = await app.waitForLine((l) => l.path === '/boom' && l.msg === 'request failed');
      expect((line.err as { message: string }).message).toBe('sync boom');
    }
  });

  // A Node listener answers its errors itself: nothing to conform to.
  it.skipIf(framework === 'node')(
    "answers a route's error that carries a status and headers (a 401 with WWW-Authenticate) with both, after the app error handler",
    async () => {
      const app = await start(framework);
      const response = await get(`${app.url}/denied`);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="conformance"');
      expect(response.headers['x-app-error-handler']).toBe('1');
      const line = await app.waitForLine((l) => l.path === '/denied' && l.statusCode !== undefined);
      expect(line).toMatchObject({ level: 'info', msg: 'request completed', statusCode: 401 });
    },
  );

  it('handles an async route error (Express 4: per the unhandledRejection policy)', async () => {
    if (framework === 'express4') {
      // Express 4 does not see a rejected async handler: the rejection is unhandled, and the default
      // policy answers its request 500 (Express never would), drains the instance and exits 1.
      const app = await start(framework, { TIMEOUT_MS: '1500' });
      const response = await get(`${app.url}/boom-async`, { timeoutMs: 5_000 });
      expect(response.status).toBe(500);
      expect(response.body).not.toMatch(/at .*\(|\.mjs|boom/);
      expect(response.headers.connection).toBe('close');
      const { code } = await app.exit(0);
      expect(code).toBe(1);
      expect(app.lines.find((l) => l.level === 'fatal')?.msg).toBe('unhandled promise rejection: async boom');
      const line = app.lines.find((l) => l.path === '/boom-async' && l.statusCode === 500);
      expect((line?.err as { message: string } | undefined)?.message).toBe('async boom');
      return;
    }
    const app = await start(framework);
    const response = await get(`${app.url}/boom-async`);
    expect(response.status).toBe(500);
    expect(response.body).not.toMatch(/at .*\(|\.mjs|boom/);
    expect(response.headers['x-app-error-handler']).toBe('1');
    if (framework !== 'node') {
      const line = await app.waitForLine((l) => l.path === '/boom-async' && l.msg === 'request failed');
      expect((line.err as { message: string }).message).toBe('async boom');
    }
    expect(app.stderr()).toBe('');
  });

  it('correlates log lines with the request and its trace', async () => {
    const app = await start(framework);
    const response = await get(`${app.url}/hello`, {
      headers: { 'x-request-id': `conf-${framework}`, 'x-amzn-trace-id': `Root=${traceRoot};Sampled=1` },
    });
    expect(JSON.parse(response.body)).toMatchObject({ requestId: `conf-${framework}`, traceId: traceRoot });
    const line = await app.waitForLine((l) => l.msg === 'handler line');
    expect(line).toMatchObject({ requestId: `conf-${framework}`, traceId: traceRoot });
    const requestLine = await app.waitForLine((l) => l.msg === 'request completed' && l.path === '/hello');
    expect(requestLine).toMatchObject({ requestId: `conf-${framework}`, traceId: traceRoot });

    // A W3C caller: the trace id of its traceparent, in X-Ray form.
    const w3c = await get(`${app.url}/hello`, {
      headers: {
        'x-request-id': `w3c-${framework}`,
        traceparent: `00-${traceRoot.slice(2).replace('-', '')}-00f067aa0ba902b7-01`,
      },
    });
    expect(JSON.parse(w3c.body)).toMatchObject({ requestId: `w3c-${framework}`, traceId: traceRoot });
  });

  it("echoes the request id on every response: adopted, generated (the request line's), invalid replaced", async () => {
    const app = await start(framework);
    const adopted = await get(`${app.url}/hello`, { headers: { 'x-request-id': `echo-${framework}` } });
    expect(adopted.headers['x-request-id']).toBe(`echo-${framework}`);

    const generated = await get(`${app.url}/notes/7`);
    expect(generated.headers['x-request-id']).toMatch(uuid);
    const line = await app.waitForLine((l) => l.msg === 'request completed' && l.path === '/notes/7');
    expect(line.requestId).toBe(generated.headers['x-request-id']);

    const invalid = await get(`${app.url}/hello`, {
      headers: { 'x-request-id': `too long ${'x'.repeat(130)}` },
    });
    expect(invalid.headers['x-request-id']).toMatch(uuid);
    expect(JSON.parse(invalid.body).requestId).toBe(invalid.headers['x-request-id']);

    for (const path of ['/nowhere', '/boom']) {
      const response = await get(`${app.url}${path}`, {
        headers: { 'x-request-id': `err-${path.slice(1)}` },
      });
      expect(response.headers['x-request-id'], `${path} ${response.status}`).toBe(`err-${path.slice(1)}`);
    }
  });

  it('forwards the request id (and, tracing, the trace headers) with fetch and node:http, tracing off and on (OpenTelemetry)', async () => {
    for (const env of [{}, otel]) {
      const app = await start(framework, env);
      for (const via of ['fetch', 'http']) {
        const id = `fwd-${via}-${'TRACING' in env ? 'otel' : 'off'}`;
        const response = await get(`${app.url}/forward?via=${via}&to=${encodeURIComponent(echoUrl)}`, {
          headers: { 'x-request-id': id, 'x-amzn-trace-id': `Root=${traceRoot};Sampled=1` },
        });
        const seen = JSON.parse(response.body) as IncomingHttpHeaders;
        expect(seen['x-request-id'], id).toBe(id);
        if ('TRACING' in env) {
          expect(seen['x-amzn-trace-id'], id).toContain(`Root=${traceRoot}`);
          expect(seen.traceparent, id).toMatch(
            new RegExp(`^00-${traceRoot.slice(2).replace('-', '')}-[0-9a-f]{16}-01$`),
          );
        } else {
          expect(seen['x-amzn-trace-id'], id).toBeUndefined();
          expect(seen.traceparent, id).toBeUndefined();
        }
      }
      app.child.kill('SIGKILL');
    }
  });

  it('puts request fields on the app line, a nested async line and the request line, not on another request', async () => {
    const app = await start(framework);
    await Promise.all([
      get(`${app.url}/fields?tenant=slow-tenant&ms=60`),
      get(`${app.url}/fields?tenant=fast-tenant&ms=5`),
    ]);
    for (const tenant of ['slow-tenant', 'fast-tenant']) {
      const requestLine = await app.waitForLine(
        (l) => l.msg === 'request completed' && l.path === '/fields' && l.tenant === tenant,
      );
      const own = app.lines.filter((l) => l.requestId === requestLine.requestId);
      expect(own.map((l) => l.msg).sort()).toEqual([
        'fields line',
        'nested fields line',
        'request completed',
      ]);
      for (const line of own) expect(line.tenant, String(line.msg)).toBe(tenant);
    }
    expect(app.lines.filter((l) => l.tenant !== undefined)).toHaveLength(6);
  });

  it('writes the current spanId on lines inside a traced request and inside a child span', async () => {
    const app = await start(framework, otel);
    const response = await get(`${app.url}/span`, {
      headers: { 'x-amzn-trace-id': `Root=${traceRoot};Parent=53995c3f42cd8ad8;Sampled=1` },
    });
    const { child } = JSON.parse(response.body) as { child: string };
    const requestLine = await app.waitForLine((l) => l.msg === 'request completed' && l.path === '/span');
    const inRequest = app.lines.find((l) => l.msg === 'request span line')!;
    const inChild = app.lines.find((l) => l.msg === 'child span line')!;
    expect(requestLine.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(inRequest).toMatchObject({ traceId: traceRoot, spanId: requestLine.spanId });
    expect(inChild).toMatchObject({ traceId: traceRoot, spanId: child });
    expect(child).not.toBe(requestLine.spanId);
  });

  it('keeps quietRequests out of the request lines, its own lines kept, and logs them again when they fail', async () => {
    const app = await start(framework, { QUIET: JSON.stringify(['/hello', '/boom']) });
    const quiet = await get(`${app.url}/hello?x=1`, { headers: { 'x-request-id': `quiet-${framework}` } });
    expect(quiet.headers['x-request-id']).toBe(`quiet-${framework}`);
    await get(`${app.url}/boom`);
    await get(`${app.url}/notes/7`);
    await app.waitForLine((l) => l.msg === 'request completed' && l.path === '/notes/7');
    const requestLines = app.lines.filter(
      (l) => typeof l.statusCode === 'number' && typeof l.path === 'string',
    );
    expect(requestLines.map((l) => [l.path, l.statusCode])).toEqual([
      ['/boom', 500],
      ['/notes/7', 200],
    ]);
    expect(app.lines.find((l) => l.msg === 'handler line')).toMatchObject({
      requestId: `quiet-${framework}`,
    });
  });

  it('holds a request debug lines, and writes them before its request line only when it fails (logging.buffer)', async () => {
    const app = await start(framework, { BUFFER: 'true' });
    await get(`${app.url}/held?status=200`, { headers: { 'x-request-id': `held-ok-${framework}` } });
    await get(`${app.url}/held?status=503`, { headers: { 'x-request-id': `held-fail-${framework}` } });
    await app.waitForLine((l) => l.requestId === `held-fail-${framework}` && l.msg === 'request failed');
    const of = (id: string) => app.lines.filter((l) => l.requestId === id).map((l) => l.msg);
    expect(of(`held-ok-${framework}`)).toEqual(['request completed']);
    expect(of(`held-fail-${framework}`)).toEqual(['held line', 'nested held line', 'request failed']);
  });

  it('reads a secret in a handler', async () => {
    const app = await start(framework);
    expect((await get(`${app.url}/secret`)).body).toBe(`hello from ${framework}`);
  });

  it('sheds past maxInFlight with 503 and Retry-After, never health nor an exempt path, and serves again after', async () => {
    const app = await start(framework, {
      SHEDDING: JSON.stringify({ maxInFlight: 2, exempt: ['/notes/*'] }),
    });
    const responses = Array.from({ length: 6 }, (_, i) =>
      get(`${app.url}/slow?ms=400`, { headers: { 'x-request-id': `shed-${i}` } }),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await get(`${app.url}/healthz`)).status).toBe(200);
    expect((await get(`${app.url}/notes/7`)).status).toBe(200);
    const settled = await Promise.all(responses);
    expect(settled.map((r) => r.status).sort()).toEqual([200, 200, 503, 503, 503, 503]);
    const shed = settled.find((r) => r.status === 503)!;
    expect(shed.headers['retry-after']).toBe('1');
    expect(shed.headers['x-request-id']).toMatch(/^shed-\d$/);
    expect(JSON.parse(shed.body)).toMatchObject({ status: 503, reason: 'overloaded' });
    expect((await get(`${app.url}/notes/1`)).status).toBe(200);
  });

  it("while shedding, lets a CORS preflight through to the app's CORS handling, and answers a request with an Origin a 503 its page can read", async () => {
    // Arrange: both slots held; the app allows https://web.example and answers its preflights.
    const app = await start(framework, { CORS: '1', SHEDDING: JSON.stringify({ maxInFlight: 2 }) });
    const held = Promise.allSettled([get(`${app.url}/slow?ms=600`), get(`${app.url}/slow?ms=600`)]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const origin = 'https://web.example';

    // Act
    const preflight = await get(`${app.url}/hello`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'PUT' },
    });
    const shed = await get(`${app.url}/hello`, { headers: { origin, 'x-request-id': 'cors-shed' } });
    const plainOptions = await get(`${app.url}/hello`, { method: 'OPTIONS' });
    const noOrigin = await get(`${app.url}/hello`);

    // Assert: the preflight is the app's own answer; the 503 lets the page read it and Retry-After.
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(origin);
    expect(preflight.headers['access-control-allow-methods']).toBe('GET,PUT');
    expect(shed.status).toBe(503);
    expect(shed.headers).toMatchObject({
      'access-control-allow-origin': origin,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'retry-after, x-request-id',
      vary: 'Origin',
      'retry-after': '1',
      'x-request-id': 'cors-shed',
    });
    expect(JSON.parse(shed.body)).toMatchObject({ status: 503, reason: 'overloaded' });
    // An OPTIONS that is no preflight is shed as any request; one without an Origin gets no CORS headers.
    expect(plainOptions.status).toBe(503);
    expect(noOrigin.status).toBe(503);
    expect(noOrigin.headers['access-control-allow-origin']).toBeUndefined();
    expect(noOrigin.headers.vary).toBeUndefined();
    expect((await held).map((r) => r.status === 'fulfilled' && r.value.status)).toEqual([200, 200]);
  });

  it('sheds while the event loop is blocked, keeps health up, and recovers without flapping', async () => {
    const app = await start(framework, {
      SHEDDING: JSON.stringify({ maxEventLoopDelayMs: 100, intervalMs: 100 }),
    });
    const blocking = get(`${app.url}/block?ms=500`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const during = [get(`${app.url}/notes/1`), get(`${app.url}/notes/2`), get(`${app.url}/healthz`)];
    expect((await blocking).status).toBe(200);
    const [first, second, health] = await Promise.all(during);
    expect([first!.status, second!.status]).toEqual([503, 503]);
    expect(health!.status).toBe(200);
    await app.waitForLine((l) => l.msg === 'event loop recovered: no longer shedding', 3_000);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await get(`${app.url}/notes/${i}`)).status);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(app.lines.filter((l) => l.msg === 'event loop under pressure: shedding load')).toHaveLength(1);
  });

  it('drops no request sent on an open connection when shut down under keep-alive load (5 runs)', async () => {
    const failures = await shutdownsUnderLoad(framework, 5, {}, 150);
    expect(failures).toEqual([0, 0, 0, 0, 0]);
  }, 60_000);

  it('serves HTTPS and drops no request sent on an open TLS connection under keep-alive load (3 runs)', async () => {
    const failures = await shutdownsUnderLoad(framework, 3, { TLS: '1' }, 200, tlsCa);
    expect(failures).toEqual([0, 0, 0]);
  }, 60_000);

  it('keeps a WebSocket open until the app closes it with 1001 on runtime.signal, then exits 0', async () => {
    const app = await start(framework, { WEBSOCKET: '1' });
    const client = new WebSocket(`ws://127.0.0.1:${app.port}/`);
    const greeting = new Promise<string>((resolve) =>
      client.once('message', (data) => resolve(String(data))),
    );
    const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
    expect(await greeting).toBe(`hello from ${framework}`);

    app.signal('SIGTERM');

    expect(await closed).toBe(1001);
    expect((await app.exit()).code).toBe(0);
    expect(app.lines.find((l) => l.msg === 'shutdown started')).toMatchObject({ upgraded: 1 });
  });
});
