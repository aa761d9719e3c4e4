import { request } from 'node:http';
import { createRequire } from 'node:module';
import express from 'express';
import createError from 'http-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { captureEmf, sumOf } from '../../support/emf.js';
import { baseUrl, get } from '../../support/http.js';
import { captureLogs, type LogCapture } from '../../support/log-capture.js';
import { startOtlpCollector } from '../../support/otlp-collector.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

// Express 4 is the devDependency alias `express4`.
const express4 = createRequire(import.meta.url)('express4') as typeof express;

/** GET `url`: what arrived before the connection ended, and how it ended. */
function readUntilEnd(url: string): Promise<{ status: number; body: string; ended: 'end' | 'reset' }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ended: 'end' }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body, ended: 'reset' }));
    })
      .on('error', reject)
      .end();
  });
}

/** The first line `matches` takes, once written (within 5 s). */
async function lineOf(logs: LogCapture, matches: (line: Record<string, unknown>) => boolean) {
  const deadline = performance.now() + 5_000;
  for (;;) {
    const line = logs.lines.find(matches);
    if (line !== undefined) return line;
    if (performance.now() > deadline) throw new Error(`no such line in ${JSON.stringify(logs.lines)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the Express adapter', () => {
  it('logs a route error after the response began as a failure of the server, not a client abort', async () => {
    const logs = captureLogs();
    const app = express();
    app.get('/stream', (_req, res, next) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part');
      setTimeout(() => next(new Error('the source failed mid-stream')), 20);
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    const answer = await readUntilEnd(`${baseUrl(runtime.server!)}/stream`);
    expect(answer).toEqual({ status: 200, body: 'first part', ended: 'reset' });
    const line = await lineOf(logs, (l) => l.path === '/stream');
    expect(line).toMatchObject({
      level: 'error',
      msg: 'request failed',
      statusCode: 200,
      err: { message: 'the source failed mid-stream' },
    });
  });

  it('does not call a response that ended a failure when the route goes on to next(), and logs a late error alone', async () => {
    const logs = captureLogs();
    const app = express();
    app.get('/ended', (_req, res, next) => {
      res.send('ok');
      next(); // nothing else answers: the final handler closes the connection of a response that ended
    });
    app.get('/late-error', (_req, res, next) => {
      res.json({ ok: true });
      setTimeout(() => next(new Error('after the response')), 20);
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    expect((await readUntilEnd(`${baseUrl(runtime.server!)}/ended`)).body).toBe('ok');
    expect(await lineOf(logs, (l) => l.path === '/ended')).not.toMatchObject({ msg: 'request failed' });
    await readUntilEnd(`${baseUrl(runtime.server!)}/late-error`);
    expect(await lineOf(logs, (l) => l.path === '/late-error')).toMatchObject({ msg: 'request completed' });
    expect(await lineOf(logs, (l) => l.msg === 'request error')).toMatchObject({
      level: 'error',
      err: { message: 'after the response' },
    });
  });

  it('lets a response the route ended go out whole when the route then fails (its body still being written)', async () => {
    const logs = captureLogs();
    const app = express();
    const big = 'x'.repeat(8 * 1024 * 1024);
    app.get('/big', (_req, res) => {
      res.end(big);
      throw new Error('after the end');
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    const answer = await readUntilEnd(`${baseUrl(runtime.server!)}/big`);
    expect([answer.status, answer.body.length, answer.ended]).toEqual([200, big.length, 'end']);
    const line = await lineOf(logs, (l) => l.path === '/big');
    expect(line).toMatchObject({ msg: 'request completed', err: { message: 'after the end' } });
  });

  it('keeps a client that went away first a client abort, with no status it was never sent', async () => {
    const logs = captureLogs();
    const app = express();
    app.get('/slow', (_req, res) => {
      setTimeout(() => res.end('late'), 300);
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    const req = request(`${baseUrl(runtime.server!)}/slow`).on('error', () => {});
    req.end();
    setTimeout(() => req.destroy(), 50);
    const line = await lineOf(logs, (l) => l.path === '/slow');
    expect(line).toMatchObject({ level: 'warn', msg: 'request aborted' });
    expect(line).not.toHaveProperty('statusCode');
  });

  it("names the route of an error that left a mounted router or sub-app with its mount's pattern (Express put baseUrl back)", async () => {
    const logs = captureLogs();
    const app = express();
    const items = express.Router();
    items.get('/items/:id', (_req, res) => {
      res.end('ok');
    });
    items.get('/items/:id/boom', () => {
      throw new Error('boom');
    });
    items.get('/items/:id/bad', () => {
      throw Object.assign(new Error('bad input'), { status: 400, expose: true });
    });
    app.use('/tenants/:tenant', items);
    const sub = express();
    sub.get('/x/:id', () => {
      throw new Error('sub-app failed');
    });
    app.use('/sub', sub);
    app.get('/top/:id', () => {
      throw new Error('top failed');
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    const paths = [
      '/tenants/acme/items/1/boom',
      '/tenants/acme/items/2/bad/',
      '/sub/x/5?q=1',
      '/top/3',
      '/tenants/acme/items/1',
    ];
    for (const path of paths) await readUntilEnd(`${baseUrl(runtime.server!)}${path}`);
    const routes = await Promise.all(
      paths.map(async (path) => {
        const line = await lineOf(logs, (l) => l.path === path.split('?')[0] && l.statusCode !== undefined);
        return [line.statusCode, line.route];
      }),
    );
    expect(routes).toEqual([
      [500, '/tenants/:tenant/items/:id/boom'],
      [400, '/tenants/:tenant/items/:id/bad'],
      [500, '/sub/x/:id'], // a sub-app's mount is the path it matched, as when it goes well
      [500, '/top/:id'],
      [200, '/tenants/:tenant/items/:id'],
    ]);
  });

  it.each([
    ['Express 5', express],
    ['Express 4', express4],
  ])(
    "names a request a middleware mounted on a path answered (a GraphQL server's app.use('/graphql', …)) by the mount's pattern, not one it passed on (%s)",
    async (_name, framework) => {
      const logs = captureLogs();
      const app = framework();
      // What Apollo Server's expressMiddleware and GraphQL Yoga do: answer POSTs, pass the rest on.
      const graphqlLike: express.RequestHandler = (req, res, next) => {
        if (req.method !== 'POST') return next();
        res.json({ data: { hello: 'world' } });
      };
      app.use('/graphql', framework.json(), graphqlLike);
      app.use('/t/:tenant/graphql', framework.json(), graphqlLike);
      const { runtime } = await startRuntime({ app, logging: { destination: logs } });
      const sent: [method: string, path: string][] = [
        ['POST', '/graphql'],
        ['POST', '/t/acme/graphql'],
        ['POST', '/t/beta/graphql'],
        ['GET', '/graphql'], // passed on: the kit's 404
        ['GET', '/t/acme/graphql'],
      ];
      for (const [method, path] of sent) {
        const response = await get(`${baseUrl(runtime.server!)}${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
        });
        expect(response.status).toBe(method === 'POST' ? 200 : 404);
      }
      const lines = await Promise.all(
        sent.map(([method, path]) =>
          lineOf(logs, (l) => l.method === method && l.path === path && l.statusCode !== undefined),
        ),
      );
      expect(lines.map((l) => l.route)).toEqual([
        '/graphql',
        '/t/:tenant/graphql',
        '/t/:tenant/graphql',
        undefined,
        undefined,
      ]);
    },
  );

  it('does not take a prefix the app strips from req.url for a mount when a route fails', async () => {
    const logs = captureLogs();
    const app = express();
    app.use((req, _res, next) => {
      req.url = req.url.replace(/^\/api(?=\/)/, ''); // served under /api behind a proxy that keeps it
      next();
    });
    app.get('/items/:id', (req, res) => {
      if (req.params.id === 'bad') throw Object.assign(new Error('bad id'), { status: 400, expose: true });
      res.end('ok');
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    for (const id of ['1', 'bad']) await readUntilEnd(`${baseUrl(runtime.server!)}/api/items/${id}`);
    const lines = await Promise.all(
      ['1', 'bad'].map((id) =>
        lineOf(logs, (l) => l.path === `/api/items/${id}` && l.statusCode !== undefined),
      ),
    );
    expect(lines.map((l) => [l.statusCode, l.route])).toEqual([
      [200, '/items/:id'],
      [400, '/items/:id'], // the traffic's and the errors' route are one
    ]);
  });

  it.each([
    ['Express 5', express],
    ['Express 4', express4],
  ])(
    'names a route of a sub-app mounted on a parameter path by its pattern, whatever the tenant (%s)',
    async (_name, framework) => {
      const logs = captureLogs();
      const app = framework();
      const tenant = framework();
      tenant.get('/items/:id', (_req, res) => {
        res.end('ok');
      });
      tenant.get('/items/:id/boom', () => {
        throw new Error('boom');
      });
      app.use('/t/:tenant', tenant);
      const { runtime } = await startRuntime({ app, logging: { destination: logs } });
      // Past the 16 searches after which a route no router of the app holds was given up.
      for (let i = 0; i < 24; i++) await readUntilEnd(`${baseUrl(runtime.server!)}/t/tenant${i}/items/${i}`);
      await readUntilEnd(`${baseUrl(runtime.server!)}/t/tenant99/items/1/boom`);
      await lineOf(logs, (l) => l.path === '/t/tenant99/items/1/boom' && l.statusCode !== undefined);
      const routes = new Set(logs.lines.filter((l) => l.statusCode !== undefined).map((l) => l.route));
      expect([...routes]).toEqual(['/t/:tenant/items/:id', '/t/:tenant/items/:id/boom']);
    },
  );
});

describe.each([
  ['Express 5', express],
  ['Express 4', express4],
])("the kit's answer to a route's error, as Express's final handler's (%s)", (_name, framework) => {
  it('carries the headers of an error with a status (http-errors): WWW-Authenticate on a 401, Retry-After on a 503', async () => {
    const logs = captureLogs();
    const app = framework();
    const challenge = 'Bearer realm="api", error="invalid_token"';
    app.get('/private', (_req, _res, next) => {
      next(createError(401, 'bad token', { headers: { 'WWW-Authenticate': challenge } }));
    });
    app.get('/maintenance', () => {
      throw createError(503, 'down', { headers: { 'Retry-After': '120' } });
    });
    // Only an error's own status brings its headers; Node refuses a header with a line break.
    app.get('/no-status', (_req, res, next) => {
      res.status(409);
      next(Object.assign(new Error('conflict'), { headers: { 'x-from-error': 'no' } }));
    });
    app.get('/bad-header', (_req, _res, next) => {
      next(createError(429, { headers: { 'Retry-After': '5', 'x-bad': 'a\r\nb' } }));
    });
    // The error page is the kit's: not in the encoding the route had announced.
    app.get('/encoded', (_req, res, next) => {
      res.setHeader('content-encoding', 'gzip');
      next(createError(400, 'bad input'));
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    const url = baseUrl(runtime.server!);

    const denied = await get(`${url}/private`);
    const down = await get(`${url}/maintenance`);
    const noStatus = await get(`${url}/no-status`);
    const badHeader = await get(`${url}/bad-header`);
    const encoded = await get(`${url}/encoded`);

    expect([denied.status, denied.headers['www-authenticate'], denied.body]).toEqual([
      401,
      challenge,
      'bad token',
    ]);
    expect([down.status, down.headers['retry-after'], down.body]).toEqual([
      503,
      '120',
      'Service Unavailable',
    ]);
    expect([noStatus.status, noStatus.headers['x-from-error']]).toEqual([409, undefined]);
    expect([badHeader.status, badHeader.headers['retry-after'], badHeader.headers['x-bad']]).toEqual([
      429,
      '5',
      undefined,
    ]);
    expect([encoded.status, encoded.headers['content-encoding'], encoded.body]).toEqual([
      400,
      undefined,
      'bad input',
    ]);
    expect(await lineOf(logs, (l) => l.header === 'x-bad')).toMatchObject({
      level: 'warn',
      msg: "a header of the route's error was left out of its answer",
      err: { code: 'ERR_INVALID_CHAR' },
    });
    const lines = await Promise.all(
      ['/private', '/maintenance', '/no-status'].map((path) =>
        lineOf(logs, (l) => l.path === path && l.statusCode !== undefined),
      ),
    );
    expect(lines.map((l) => [l.level, l.msg, l.statusCode])).toEqual([
      ['info', 'request completed', 401],
      ['error', 'request failed', 503],
      ['info', 'request completed', 409],
    ]);
  });

  it('keeps the 4xx the app set before passing on an error with no status (res.status(400); next(err)), on its answer, line, span and metrics', async () => {
    const collector = await startOtlpCollector({ grpc: false });
    try {
      const logs = captureLogs();
      const emf = captureEmf();
      const app = framework();
      app.get('/bad', (_req, res, next) => {
        res.status(400);
        next(new Error('bad input'));
      });
      // A status below 400 is no error's: a 500, as Express's.
      app.get('/ok-then-error', (_req, res, next) => {
        res.status(201);
        next(new Error('after all'));
      });
      const { runtime } = await startRuntime({
        app,
        service: 'errors',
        logging: { destination: logs },
        metrics: { destination: emf, flushIntervalMs: 60_000 },
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpUrl, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
      });
      const url = baseUrl(runtime.server!);

      const bad = await get(`${url}/bad`);
      const failed = await get(`${url}/ok-then-error`);

      expect([bad.status, bad.body]).toEqual([400, 'Bad Request']);
      expect([failed.status, failed.body]).toEqual([500, 'Internal Server Error']);
      expect(await lineOf(logs, (l) => l.path === '/bad' && l.statusCode !== undefined)).toMatchObject({
        level: 'info', // a client's error, as every 4xx line
        msg: 'request completed',
        statusCode: 400,
        route: '/bad',
        err: { message: 'bad input' },
      });
      expect(
        await lineOf(logs, (l) => l.path === '/ok-then-error' && l.statusCode !== undefined),
      ).toMatchObject({
        level: 'error',
        msg: 'request failed',
        statusCode: 500,
      });
      await runtime.tracer.flush();
      const spans = await collector.waitForSpans(2);
      const byRoute = Object.fromEntries(spans.map((span) => [span.name, span]));
      expect(byRoute['GET /bad']?.attributes['http.response.status_code']).toBe(400);
      expect(byRoute['GET /bad']?.status.code).toBe('unset'); // a 4xx is the client's (OTel's HTTP semantics)
      expect(byRoute['GET /ok-then-error']?.attributes['http.response.status_code']).toBe(500);
      expect(byRoute['GET /ok-then-error']?.status.code).toBe('error');
      await runtime.metrics.flush();
      const documents = emf.documents();
      expect([sumOf(documents, '4xxStatusResponses'), sumOf(documents, '5xxStatusResponses')]).toEqual([
        1, 1,
      ]);
    } finally {
      await stopRuntimes();
      await collector.close();
    }
  });
});

describe.each([
  ['Express 5', express],
  ['Express 4', express4],
])('the route of a request that went through more than one route (%s)', (_name, framework) => {
  it.each(['a sub-app', 'a router'])(
    'is the route that answered or raised, under %s: not one that passed it on, nor an error handler’s mount',
    async (kind) => {
      const logs = captureLogs();
      const app = framework();
      const inner = kind === 'a sub-app' ? framework() : framework.Router();
      const fail = () => {
        throw new Error('boom');
      };
      const answer: express.RequestHandler = (_req, res) => {
        res.end('ok');
      };
      inner.get('/next/:id', (_req, _res, next) => next()); // a later route answers
      inner.get('/next/:name', answer);
      inner.get('/skip/:id', (_req, _res, next) => next('route'), answer);
      inner.get('/skip/:name', answer);
      inner.get('/out/:id', (_req, _res, next) => next()); // the app's own route answers
      inner.get('/here/:id', fail); // answered by an error handler mounted below the route's router
      inner.use('/here', ((_error, _req, res, _next) => {
        res.status(418).end('handled');
      }) as express.ErrorRequestHandler);
      inner.get('/up/:id', fail); // answered by an error handler the app mounted on a path
      inner.get('/gone/:id', (_req, _res, next) => next()); // nothing answers: the kit's 404
      app.use('/t/:tenant', inner);
      app.get('/t/:tenant/out/:slug', answer);
      app.use('/t/:tenant/up', ((_error, _req, res, _next) => {
        res.status(502).end('handled');
      }) as express.ErrorRequestHandler);
      app.get('/top/:id', fail);
      app.use('/top', ((_error, _req, res, _next) => {
        res.status(503).end('handled');
      }) as express.ErrorRequestHandler);
      app.get('/passes/:id', (_req, _res, next) => next());
      const { runtime } = await startRuntime({ app, logging: { destination: logs } });
      const paths = [
        '/t/a/next/1',
        '/t/b/skip/2',
        '/t/c/out/3',
        '/t/d/here/4',
        '/t/e/up/5',
        '/t/f/gone/6',
        '/top/7',
        '/passes/8',
        '/t/g/here/9', // again, with the route known
        '/t/h/up/10',
      ];
      for (const path of paths) await readUntilEnd(`${baseUrl(runtime.server!)}${path}`);
      const routes = await Promise.all(
        paths.map(async (path) => {
          const line = await lineOf(logs, (l) => l.path === path && l.statusCode !== undefined);
          return [path, line.statusCode, line.route];
        }),
      );
      expect(routes).toEqual([
        ['/t/a/next/1', 200, '/t/:tenant/next/:name'],
        ['/t/b/skip/2', 200, '/t/:tenant/skip/:name'],
        ['/t/c/out/3', 200, '/t/:tenant/out/:slug'],
        ['/t/d/here/4', 418, '/t/:tenant/here/:id'], // the route that raised, as OTel's semantics want
        ['/t/e/up/5', 502, '/t/:tenant/up/:id'],
        ['/t/f/gone/6', 404, undefined], // no route answered
        ['/top/7', 503, '/top/:id'],
        ['/passes/8', 404, undefined],
        ['/t/g/here/9', 418, '/t/:tenant/here/:id'],
        ['/t/h/up/10', 502, '/t/:tenant/up/:id'],
      ]);
    },
  );
});

describe.each([
  ['Express 5', express],
  ['Express 4', express4],
])(
  'the route of a request whose error left a mounted middleware before any route (%s)',
  (_name, framework) => {
    it("is the mount's pattern on its line, span and metrics (the middleware's, a router's or a sub-app's), never the path", async () => {
      // Arrange
      const collector = await startOtlpCollector({ grpc: false });
      try {
        const logs = captureLogs();
        const emf = captureEmf();
        const app = framework();
        const down: express.RequestHandler = (_req, _res, next) => next(new Error('graphql down'));
        app.use('/graphql', down);
        app.use('/t/:tenant/graphql', (() => {
          throw new Error('thrown');
        }) as express.RequestHandler);
        const v1 = framework.Router();
        v1.use((req, _res, next) => next(req.query.deny === '1' ? createError(403, 'denied') : undefined));
        v1.get('/items/:id', (_req, res) => {
          res.end('item');
        });
        v1.use('/admin/:section', down);
        app.use('/api/:version', v1);
        const tenant = framework();
        tenant.use((_req, _res, next) => next(createError(401, 'no tenant token')));
        app.use('/s/:tenant', tenant);
        // A mounted middleware that passes the request on, and a middleware on / that fails after it.
        app.use('/passes', (_req, _res, next) => next());
        app.use((req, _res, next) => next(req.path.startsWith('/passes') ? new Error('later') : undefined));
        // Express 5 passes on a rejection of an async middleware (Express 4 leaves it unhandled).
        const rejects = framework === express;
        if (rejects)
          app.use('/async/:id', async () => {
            throw new Error('rejected');
          });
        const { runtime } = await startRuntime({
          app,
          service: 'mounts',
          logging: { destination: logs },
          metrics: { destination: emf, flushIntervalMs: 60_000 },
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpUrl, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
        });
        const url = baseUrl(runtime.server!);
        const sent: [path: string, status: number, route: string | undefined][] = [
          ['/graphql', 500, '/graphql'],
          ['/graphql/deeper?x=1', 500, '/graphql'],
          ['/t/acme/graphql', 500, '/t/:tenant/graphql'],
          ['/t/beta/graphql', 500, '/t/:tenant/graphql'],
          ['/api/v1/items/1?deny=1', 403, '/api/:version'], // failed before the route matched
          ['/api/v2/items/2', 200, '/api/:version/items/:id'],
          ['/api/v1/admin/users', 500, '/api/:version/admin/:section'],
          ['/s/acme/anything', 401, '/s/:tenant'],
          ['/passes/1', 500, undefined], // the error is the middleware on /'s: it has no mount
          ...(rejects ? [['/async/7', 500, '/async/:id'] as [string, number, string]] : []),
        ];

        // Act
        for (const [path, status] of sent) expect((await get(`${url}${path}`)).status, path).toBe(status);

        // Assert
        const lines = await Promise.all(
          sent.map(([path]) =>
            lineOf(logs, (l) => l.path === path.split('?')[0] && l.statusCode !== undefined && !l.seen).then(
              (line) => Object.assign(line, { seen: true }),
            ),
          ),
        );
        expect(lines.map((l) => [l.path, l.statusCode, l.route])).toEqual(
          sent.map(([path, status, route]) => [path.split('?')[0], status, route]),
        );
        await runtime.tracer.flush();
        const spans = await collector.waitForSpans(sent.length);
        expect(spans.map((span) => span.name).sort()).toEqual(
          sent.map(([_path, _status, route]) => (route === undefined ? 'GET' : `GET ${route}`)).sort(),
        );
        await runtime.metrics.flush();
        const routes = new Set(
          emf
            .documents()
            .map((document) => document.Route)
            .filter((route) => route !== undefined),
        );
        expect([...routes].sort()).toEqual(
          [...new Set(sent.map(([_path, _status, route]) => route ?? '(none)'))].sort(),
        );
      } finally {
        await stopRuntimes();
        await collector.close();
      }
    });

    it('is the mount of a middleware that answered itself: express.static, a sub-app (the success path)', async () => {
      const logs = captureLogs();
      const app = framework();
      app.use('/assets/:build', framework.static(new URL('../../fixtures', import.meta.url).pathname));
      const tenant = framework();
      tenant.use((_req, res) => {
        res.end('tenant');
      });
      app.use('/s/:tenant', tenant);
      const { runtime } = await startRuntime({ app, logging: { destination: logs } });
      const url = baseUrl(runtime.server!);
      expect((await get(`${url}/assets/b1/tls/cert.pem`)).status).toBe(200);
      expect((await get(`${url}/s/acme/x`)).body).toBe('tenant');
      const lines = await Promise.all(
        ['/assets/b1/tls/cert.pem', '/s/acme/x'].map((path) =>
          lineOf(logs, (l) => l.path === path && l.statusCode !== undefined),
        ),
      );
      expect(lines.map((l) => l.route)).toEqual(['/assets/:build', '/s/:tenant']);
    });
  },
);
