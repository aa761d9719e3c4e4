import { createServer } from 'node:http';
import { connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CreateLoggerOptions,
  createLogger,
  FastifyBootingError,
  fastifyAdapter,
  UnsupportedAppError,
} from '../../../src/index.js';
import { captureEmf, sumOf, withDimensions } from '../../support/emf.js';
import { baseUrl, get } from '../../support/http.js';
import { streamOf } from '../../support/http2.js';
import { captureLogs } from '../../support/log-capture.js';
import { startOtlpCollector } from '../../support/otlp-collector.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

/** A Fastify app whose logger createLogger built (service 'fastify-app', lines in `logs`), its own request lines off. */
function kitFastify(options: CreateLoggerOptions = {}) {
  const logs = captureLogs();
  const app = Fastify({
    loggerInstance: createLogger({ service: 'fastify-app', destination: logs, ...options }),
    logController: new LogController({ disableRequestLogging: true }),
  });
  return { app, logs };
}

describe('the Fastify adapter', () => {
  it("drains first, then runs fastify.close() and its onClose hooks, then the kit's hooks", async () => {
    const events: string[] = [];
    const app = Fastify();
    app.get('/slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      events.push('slow request answered');
      return 'slow';
    });
    app.addHook('onClose', async () => {
      events.push('fastify onClose');
    });
    const { runtime } = await startRuntime({ app });
    runtime.onShutdown('kit hook', () => {
      events.push('kit hook');
    });
    const slow = get(`${baseUrl(runtime.server!)}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const result = await runtime.shutdown('test');
    expect((await slow).body).toBe('slow');
    expect(result.exitCode).toBe(0);
    expect(events).toEqual(['slow request answered', 'fastify onClose', 'kit hook']);
  });

  it("takes the kit's logger as loggerInstance: Fastify's own lines carry the request id", async () => {
    const logs = captureLogs();
    const app = Fastify({ loggerInstance: createLogger({ service: 'fastify-app', destination: logs }) });
    app.get('/hi', async (request) => {
      request.log.info('inside the handler');
      return 'hi';
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    await get(`${baseUrl(runtime.server!)}/hi`, { headers: { 'x-request-id': 'fastify-1' } });
    const line = logs.find('inside the handler')[0];
    expect(line).toMatchObject({ requestId: 'fastify-1', service: 'fastify-app' });
  });

  it('writes its own lines through a logger of createLogger given as loggerInstance: one logger', async () => {
    const { app, logs } = kitFastify({ level: 'debug' });
    app.get('/hi', async (request) => {
      request.log.debug('debug inside the handler');
      return 'hi';
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs, level: 'debug' } });
    // Fastify's fastify.log is a child of the logger it was given: the kit's logger is that one.
    expect(runtime.logger).toBe(Object.getPrototypeOf(app.log));
    expect(runtime.config.service).toBe('fastify-app'); // the logger's service names spans and metrics
    await get(`${baseUrl(runtime.server!)}/hi`, { headers: { 'x-request-id': 'fastify-2' } });
    expect(logs.find('debug inside the handler')[0]).toMatchObject({
      requestId: 'fastify-2',
      level: 'debug',
    });
    expect(logs.find('request completed')[0]).toMatchObject({
      requestId: 'fastify-2',
      service: 'fastify-app',
    });
    expect(logs.lines.filter((line) => line.level === 'warn')).toEqual([]);
    // A level set at run time applies to the app's lines and the kit's alike.
    runtime.logger.level = 'warn';
    await get(`${baseUrl(runtime.server!)}/hi`, { headers: { 'x-request-id': 'fastify-3' } });
    expect(logs.lines.filter((line) => line.requestId === 'fastify-3')).toEqual([]);
  });

  it("takes createLogger's settings when given no logging options of its own: buffering, one logger", async () => {
    const { app, logs } = kitFastify({ buffer: true });
    app.get('/fails', async (request, reply) => {
      request.log.debug('held until the request fails');
      return reply.code(503).send('down');
    });
    // startRuntime gives a destination: the same one, so no difference.
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    expect(runtime.logger).toBe(Object.getPrototypeOf(app.log));
    expect(runtime.config.logging.buffer).toBe(true);
    await get(`${baseUrl(runtime.server!)}/fails`, { headers: { 'x-request-id': 'fastify-4' } });
    const lines = logs.lines.filter((line) => line.requestId === 'fastify-4').map((line) => line.msg);
    expect(lines).toEqual(['held until the request fails', 'request failed']);
  });

  it("writes the kit's lines under the logger's messageKey, request.log's and its request line alike", async () => {
    const { app, logs } = kitFastify({ messageKey: 'message' });
    app.get('/hi', async (request) => {
      request.log.info('inside the handler');
      return 'hi';
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    expect(runtime.config.logging.messageKey).toBe('message');
    await get(`${baseUrl(runtime.server!)}/hi`, { headers: { 'x-request-id': 'fastify-key' } });
    const ofRequest = logs.lines.filter((line) => line.requestId === 'fastify-key');
    expect(ofRequest.map((line) => line.message)).toEqual(['inside the handler', 'request completed']);
    expect(logs.lines.filter((line) => 'msg' in line)).toEqual([]);
  });

  it("writes its own request lines' req and res as Fastify does, without headers or query, over HTTP and inject()", async () => {
    const logs = captureLogs();
    const app = Fastify({ loggerInstance: createLogger({ service: 'fastify-app', destination: logs }) });
    app.get('/notes', async () => 'notes');
    const { runtime } = await startRuntime({ app });
    const headers = { authorization: 'Bearer from-the-caller', 'x-amz-security-token': 'sts-token' };
    await get(`${baseUrl(runtime.server!)}/notes?token=in-the-query`, { headers });
    await app.inject({ method: 'GET', url: '/notes?token=in-the-query', headers });
    const incoming = logs.find('incoming request');
    expect(incoming).toHaveLength(2);
    for (const line of incoming) {
      expect(line.req).toMatchObject({ method: 'GET', url: '/notes', remoteAddress: expect.any(String) });
      expect(JSON.stringify(line)).not.toMatch(/from-the-caller|sts-token|in-the-query/);
    }
    expect(logs.find('request completed').map((line) => line.res)).toEqual([
      { statusCode: 200 },
      { statusCode: 200 },
    ]);
  });

  it('keeps a logger of its own, and says which settings differ, when that logger was built otherwise', async () => {
    const { app, logs: fastifyLogs } = kitFastify();
    app.get('/hi', async (request) => {
      request.log.info('inside the handler');
      return 'hi';
    });
    const { runtime, logs } = await startRuntime({ app, logging: { level: 'warn' } });
    expect(runtime.logger).not.toBe(Object.getPrototypeOf(app.log));
    const [warning] = logs.lines.filter((line) => Array.isArray(line.differences));
    expect(warning).toMatchObject({
      level: 'warn',
      differences: [
        'logging.level "warn" (the logger\'s: "info")',
        'logging.destination "a stream" (the logger\'s: "another stream")',
      ],
    });
    expect(warning?.msg).toMatch(
      /^Fastify's logger, built by createLogger, differs .*give createLogger those options/,
    );
    await get(`${baseUrl(runtime.server!)}/hi`);
    expect(fastifyLogs.find('inside the handler')).toHaveLength(1);
    // The kit's lines (its warning, its request line) go to its own logger's destination only.
    expect(fastifyLogs.lines.filter((line) => line.differences !== undefined)).toEqual([]);
    expect(logs.find('request completed')).toEqual([]); // at `warn`: the kit's level applies to its own
  });

  it("picks requests at the logger's debugSampleRate: the setting given to createLogger alone works", async () => {
    const { app, logs } = kitFastify({ debugSampleRate: 1 });
    app.get('/hi', async (request) => {
      request.log.debug('debug of a sampled request');
      return 'hi';
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    await get(`${baseUrl(runtime.server!)}/hi`, { headers: { 'x-request-id': 'fastify-5' } });
    expect(logs.find('debug of a sampled request')[0]).toMatchObject({ requestId: 'fastify-5' });
    runtime.logger.debug('outside any request'); // the level (info) applies outside requests
    expect(logs.find('outside any request')).toEqual([]);
  });

  it("picks requests by the logger's debugRequests too", async () => {
    const { app, logs } = kitFastify({ debugRequests: (req) => req.headers['x-debug'] === 'on' });
    app.get('/hi', async (request) => {
      request.log.debug('debug of a picked request');
      return 'hi';
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    await get(`${baseUrl(runtime.server!)}/hi`, {
      headers: { 'x-request-id': 'fastify-6', 'x-debug': 'on' },
    });
    await get(`${baseUrl(runtime.server!)}/hi`, { headers: { 'x-request-id': 'fastify-7' } });
    expect(logs.find('debug of a picked request').map((line) => line.requestId)).toEqual(['fastify-6']);
  });

  it("writes a picked request's debug lines in a route with a logLevel of its own", async () => {
    const { app, logs } = kitFastify({ debugRequests: (req) => req.headers['x-debug'] === 'on' });
    app.get('/quiet', { logLevel: 'warn' }, async (request) => {
      request.log.debug('debug in a warn route');
      request.log.info('info in a warn route');
      return 'quiet';
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    const url = `${baseUrl(runtime.server!)}/quiet`;
    await get(url, { headers: { 'x-request-id': 'fastify-8', 'x-debug': 'on' } });
    await get(url, { headers: { 'x-request-id': 'fastify-9' } });
    const routeLines = logs.lines.filter((line) => String(line.msg).endsWith('in a warn route'));
    expect(routeLines.map((line) => [line.requestId, line.msg])).toEqual([
      ['fastify-8', 'debug in a warn route'],
      ['fastify-8', 'info in a warn route'],
    ]);
  });

  it('leaves a logger it did not build alone, and says nothing', async () => {
    const own = captureLogs();
    const app = Fastify({ loggerInstance: pino({ level: 'info' }, own) });
    const { runtime, logs } = await startRuntime({ app });
    expect(runtime.logger).not.toBe(Object.getPrototypeOf(app.log));
    expect(logs.lines.filter((line) => line.level === 'warn')).toEqual([]);
    const listening = (line: Record<string, unknown>) => line.framework === 'fastify';
    expect(logs.lines.filter(listening)).toHaveLength(1); // the kit's lines go to its own logger
    expect(own.lines.filter(listening)).toEqual([]);
  });

  it("keeps a logger of its own for a loggerInstance that is a child of createLogger's, and says why", async () => {
    const fastifyLogs = captureLogs();
    const app = Fastify({
      loggerInstance: createLogger({ service: 'fastify-app', destination: fastifyLogs }).child({
        component: 'api',
      }),
      logController: new LogController({ disableRequestLogging: true }),
    });
    const { logs } = await startRuntime({ app });
    expect(logs.lines.find((line) => Array.isArray(line.differences))?.differences).toEqual([
      "loggerInstance is a child of createLogger's logger (give the framework that logger itself)",
      'logging.destination "a stream" (the logger\'s: "another stream")',
    ]);
  });

  it('drains an http2: true instance: a GOAWAY, the stream in flight answered whole, its request line', async () => {
    const logs = captureLogs();
    const app = Fastify({ http2: true });
    app.get('/slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return 'slow whole';
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    const { port } = runtime.server!.address() as AddressInfo;
    const session = connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    const goaway = new Promise((resolve) => session.once('goaway', resolve));
    const answer = streamOf(session, '/slow', { 'x-request-id': 'h2-1' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const result = await runtime.shutdown('test');
    expect(await goaway).toBe(0);
    expect(await answer).toEqual({ status: 200, body: 'slow whole' });
    expect(result.exitCode).toBe(0);
    expect(logs.find('shutdown started')[0]).toMatchObject({ inFlight: 1 });
    expect(logs.find('request completed')[0]).toMatchObject({ requestId: 'h2-1', statusCode: 200 });
    session.destroy();
  });

  it('refuses an instance that is already listening, telling to remove listen()', async () => {
    const app = Fastify();
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await expect(startRuntime({ app })).rejects.toBeInstanceOf(UnsupportedAppError);
      await expect(startRuntime({ app })).rejects.toThrow(/remove your own fastify.listen\(\)/);
    } finally {
      await app.close();
    }
  });

  it('refuses at once, naming the fix, the encapsulated instance a plugin receives (fastify-cli app.js)', async () => {
    // Arrange: the kit awaited inside a plugin, as in fastify-cli's app.js; a short plugin timeout
    // bounds the wait the kit would otherwise end in.
    const app = Fastify({ pluginTimeout: 2000 });
    let thrown: unknown;
    app.register(async (instance: FastifyInstance) => {
      instance.get('/hello', async () => 'hello');
      try {
        await startRuntime({ app: instance });
      } catch (error) {
        thrown = error;
        throw error;
      }
    });
    // Act
    const ready = app.ready();
    // Assert: the plugin's error ends the boot, not avvio's AVV_ERR_PLUGIN_EXEC_TIMEOUT.
    await expect(ready).rejects.toBeInstanceOf(FastifyBootingError);
    expect(thrown).toBeInstanceOf(UnsupportedAppError);
    expect((thrown as FastifyBootingError).code).toBe('ARK_FASTIFY_BOOTING');
    expect((thrown as Error).message).toMatch(/fastify eject.*closeWithGrace.*app\.listen/);
    await app.close();
  });

  it('explains the plugin timeout of the root awaited inside a plugin wrapped as fastify-plugin wraps it', async () => {
    const app = Fastify({ pluginTimeout: 500 });
    let thrown: unknown;
    const plugin = Object.assign(
      async function appPlugin(instance: FastifyInstance) {
        try {
          await startRuntime({ app: instance });
        } catch (error) {
          thrown = error;
        }
      },
      { [Symbol.for('skip-override')]: true },
    );
    app.register(plugin);
    await expect(app.ready()).rejects.toMatchObject({ code: 'FST_ERR_PLUGIN_TIMEOUT' });
    await expect.poll(() => thrown).toBeInstanceOf(FastifyBootingError);
    expect((thrown as Error).message).toMatch(
      /FST_ERR_PLUGIN_TIMEOUT.*appPlugin.*waits for itself.*fastify eject/,
    );
    await app.close();
  });

  it('takes the root after await fastify.after(), as Fastify documents it before listen()', async () => {
    const app = Fastify();
    await app.register(async (instance) => {
      instance.get('/inner', async () => 'inner');
    });
    await app.after();
    const { runtime } = await startRuntime({ app });
    expect((await get(`${baseUrl(runtime.server!)}/inner`)).body).toBe('inner');
  });

  it('takes an instance whose plugins were loaded before it (await fastify.register), not booting', async () => {
    const app = Fastify();
    await app.register(async (instance) => {
      instance.get('/inner', async () => 'inner');
    });
    await app.register(
      Object.assign(
        async (instance: FastifyInstance) => {
          instance.decorate('answer', 42);
        },
        { [Symbol.for('skip-override')]: true },
      ),
    );
    app.get('/outer', async () => 'outer');
    const { runtime } = await startRuntime({ app });
    expect((await get(`${baseUrl(runtime.server!)}/inner`)).body).toBe('inner');
    expect((await get(`${baseUrl(runtime.server!)}/healthz`)).status).toBe(200);
  });

  it('is picked by shape, and can be named explicitly', async () => {
    expect(fastifyAdapter.matches(Fastify())).toBe(true);
    expect(fastifyAdapter.matches(() => {})).toBe(false);
    const { runtime } = await startRuntime({
      app: Fastify().get('/x', async () => 'x'),
      adapter: fastifyAdapter,
    });
    expect((await get(`${baseUrl(runtime.server!)}/x`)).body).toBe('x');
  });
});

describe("the kit in front of a Fastify app's own hooks", () => {
  /** An app whose root onRequest hook logs and answers 401 without `authorization: Bearer ok`. */
  function guardedApp(options: FastifyServerOptions & { http2?: true }) {
    const logs = captureLogs();
    const app = Fastify({
      ...options,
      loggerInstance: createLogger({ service: 'guarded', destination: logs }),
      logController: new LogController({ disableRequestLogging: true }),
    } as FastifyServerOptions);
    app.addHook('onRequest', (request, reply, done) => {
      request.log.info('in the auth hook');
      if (request.headers.authorization === 'Bearer ok') done();
      else reply.code(401).send('unauthorized');
    });
    app.get('/notes/:id', async () => 'note');
    return { app, logs };
  }

  const servers = {
    'its own server': {},
    'an http2: true server': { http2: true },
    "a serverFactory's server": {
      serverFactory: (handler: (req: never, res: never) => void) =>
        createServer((req, res) => handler(req as never, res as never)),
    },
  } as const;

  it.each(Object.keys(servers))(
    "answers health, and gives a request turned away by the app's onRequest hook its id and line, on %s",
    async (name) => {
      const { app, logs } = guardedApp(servers[name as keyof typeof servers] as FastifyServerOptions);
      const { runtime } = await startRuntime({ app, logging: { destination: logs } });
      const { port } = runtime.server!.address() as AddressInfo;
      const call = async (path: string, headers: Record<string, string> = {}) => {
        if (name !== 'an http2: true server') {
          const response = await get(`http://127.0.0.1:${port}${path}`, { headers });
          return { status: response.status, id: response.headers['x-request-id'] };
        }
        const session = connect(`http://127.0.0.1:${port}`);
        session.on('error', () => {});
        const answer = await new Promise<{ status: number; id: unknown }>((resolve) => {
          const stream = session.request({ ':path': path, ...headers });
          let answered = { status: 0, id: undefined as unknown };
          stream.on('response', (h) => (answered = { status: h[':status']!, id: h['x-request-id'] }));
          stream.on('close', () => resolve(answered));
          stream.resume();
          stream.end();
        });
        session.close();
        return answer;
      };
      expect((await call('/healthz')).status).toBe(200);
      expect((await call('/readyz')).status).toBe(200);
      expect(await call('/notes/1', { 'x-request-id': 'turned-away' })).toEqual({
        status: 401,
        id: 'turned-away',
      });
      expect(await call('/notes/2', { 'x-request-id': 'let-in', authorization: 'Bearer ok' })).toEqual({
        status: 200,
        id: 'let-in',
      });
      for (const id of ['turned-away', 'let-in']) {
        expect(logs.find('in the auth hook').filter((line) => line.requestId === id)).toHaveLength(1);
        expect(logs.find('request completed').filter((line) => line.requestId === id)).toHaveLength(1);
      }
      expect(logs.find('request completed').find((line) => line.requestId === 'turned-away')).toMatchObject({
        statusCode: 401,
      });
      expect(runtime.stats().inFlight).toBe(0);
    },
  );

  it("names the route of a request the app's hooks answered, on its line, span and metrics; none on a 404", async () => {
    const collector = await startOtlpCollector({ grpc: false });
    try {
      const logs = captureLogs();
      const emf = captureEmf();
      const app = Fastify();
      // Registered before the kit's hook, so run before it: a 401 sent, or an error (@fastify/basic-auth's way).
      app.addHook('onRequest', (request, reply, done) => {
        const { authorization } = request.headers;
        if (authorization === 'Bearer ok') done();
        else if (authorization === undefined) reply.code(401).send('unauthorized');
        else done(Object.assign(new Error('bad credentials'), { statusCode: 401 }));
      });
      app.addHook('preValidation', async (request, reply) => {
        if (request.headers['x-limit'] === 'reached') return reply.code(429).send('slow down');
      });
      app.get('/notes/:id', async () => 'note');
      const { runtime } = await startRuntime({
        app,
        service: 'notes',
        logging: { destination: logs },
        metrics: { destination: emf, flushIntervalMs: 60_000 },
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpUrl, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
      });
      const url = baseUrl(runtime.server!);
      const calls = [
        ['/notes/1', {}, 401],
        ['/notes/2', { authorization: 'Basic bad' }, 401],
        ['/notes/3', { authorization: 'Bearer ok', 'x-limit': 'reached' }, 429],
        ['/notes/4', { authorization: 'Bearer ok' }, 200],
        ['/missing', {}, 401],
        ['/missing', { authorization: 'Bearer ok' }, 404],
      ] as const;
      for (const [i, [path, headers, status]] of calls.entries()) {
        const response = await get(`${url}${path}`, { headers: { ...headers, 'x-request-id': `call-${i}` } });
        expect(response.status).toBe(status);
      }
      const routes = calls.map((_, i) => {
        const line = logs.lines.find((l) => l.msg === 'request completed' && l.requestId === `call-${i}`);
        return line?.route ?? 'none';
      });
      expect(routes).toEqual(['/notes/:id', '/notes/:id', '/notes/:id', '/notes/:id', 'none', 'none']);

      await runtime.tracer.flush();
      const spans = await collector.waitForSpans(calls.length);
      expect(spans.map((span) => span.name).sort()).toEqual([
        'GET',
        'GET',
        'GET /notes/:id',
        'GET /notes/:id',
        'GET /notes/:id',
        'GET /notes/:id',
      ]);

      await runtime.metrics.flush();
      const documents = emf.documents();
      const routed = withDimensions(documents, { Route: '/notes/:id', Method: 'GET' });
      expect(sumOf(routed, 'Requests')).toBe(4);
      expect(sumOf(routed, '4xxStatusResponses')).toBe(3);
      const unrouted = withDimensions(documents, { Route: '(none)', Method: 'GET' });
      expect(sumOf(unrouted, 'Requests')).toBe(2);
    } finally {
      await stopRuntimes();
      await collector.close();
    }
  });

  // Not through the server, so after the app's hooks: one of those that answers leaves the kit out.
  it('serves fastify.inject() requests in the scope too: the echoed id, the request line', async () => {
    const { app, logs } = guardedApp({});
    await startRuntime({ app, logging: { destination: logs } });
    const response = await app.inject({
      url: '/notes/3',
      headers: { 'x-request-id': 'injected', authorization: 'Bearer ok' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-request-id']).toBe('injected');
    // Its line says what the kit makes of light-my-request's response (`request aborted`).
    await vi.waitFor(() =>
      expect(
        logs.lines.filter((line) => line.requestId === 'injected' && line.path === '/notes/3'),
      ).toHaveLength(1),
    );
  });

  it("says so, and serves in its onRequest hook, when a serverFactory's server has no single request listener", async () => {
    const logs = captureLogs();
    const app = Fastify({
      serverFactory: (handler) => {
        const server = createServer();
        server.on('request', (req, res) => handler(req, res));
        server.on('request', () => {});
        return server;
      },
    });
    app.get('/notes/:id', async () => 'note');
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    const response = await get(`${baseUrl(runtime.server!)}/notes/4`, {
      headers: { 'x-request-id': 'hooked' },
    });
    expect(response.headers['x-request-id']).toBe('hooked');
    expect(logs.find('request completed').filter((line) => line.requestId === 'hooked')).toHaveLength(1);
    expect(
      logs.lines.find((line) => /no single 'request' listener/.test(String(line.msg ?? line.message))),
    ).toMatchObject({
      listeners: 2,
    });
  });
});

describe('request ids on Fastify', () => {
  /** A route answering its `request.id`, logging through `request.log`; the kit's lines in `logs`. */
  async function idApp(options: FastifyServerOptions = {}) {
    const logs = captureLogs();
    const app = Fastify({ loggerInstance: createLogger({ service: 'ids', destination: logs }), ...options });
    app.get('/id', async (request) => {
      request.log.info('in the route');
      return request.id;
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    const call = async (headers: Record<string, string> = {}) => {
      const response = await get(`${baseUrl(runtime.server!)}/id`, { headers });
      const echoed = response.headers['x-request-id'];
      const inRoute = logs.lines.filter((line) => line.msg === 'in the route' && line.requestId === echoed);
      const requestLine = logs.lines.filter(
        (line) => line.msg === 'request completed' && line.requestId === echoed,
      );
      return { id: response.body, echoed, inRoute, requestLine };
    };
    return { call, logs };
  }

  it("makes request.id the kit's: adopted, generated or replaced, it is the echoed id, reqId and requestId", async () => {
    const { call } = await idApp({ logController: new LogController({ disableRequestLogging: true }) });
    const adopted = await call({ 'x-request-id': 'from-the-caller' });
    const generated = await call();
    const replaced = await call({ 'x-request-id': 'has a space' });
    expect(adopted.id).toBe('from-the-caller');
    expect(generated.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(replaced.id).toMatch(/^[0-9a-f]{8}-/);
    for (const { id, echoed, inRoute, requestLine } of [adopted, generated, replaced]) {
      expect(echoed).toBe(id);
      expect(inRoute).toHaveLength(1);
      expect(inRoute[0]).toMatchObject({ reqId: id, requestId: id });
      expect(requestLine).toHaveLength(1);
    }
  });

  it("writes the id once with requestIdLogLabel: 'requestId'", async () => {
    const raw: string[] = [];
    const app = Fastify({
      loggerInstance: createLogger({
        service: 'ids',
        destination: { write: (line: string) => void raw.push(line) },
      }),
      logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    });
    app.get('/id', async (request) => {
      request.log.info('in the route');
      return request.id;
    });
    const { runtime } = await startRuntime({ app });
    const response = await get(`${baseUrl(runtime.server!)}/id`);
    const line = raw.find((text) => text.includes('"in the route"'))!;
    expect(line.split('"requestId":')).toHaveLength(2);
    expect(JSON.parse(line)).toMatchObject({ requestId: response.body });
    expect(response.headers['x-request-id']).toBe(response.body);
  });

  it("takes the app's own genReqId when well formed, after the caller's id", async () => {
    let next = 0;
    const { call } = await idApp({
      genReqId: () => (++next % 2 === 1 ? `order-${next}` : `bad id ${next}`),
      logController: new LogController({ disableRequestLogging: true }),
    });
    const good = await call();
    expect(good).toMatchObject({ id: 'order-1', echoed: 'order-1' });
    expect(good.requestLine).toHaveLength(1);
    const bad = await call();
    expect(bad.id).toBe('bad id 2'); // Fastify's id, which the kit does not take
    expect(bad.echoed).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    expect(bad.requestLine).toHaveLength(1);
    // The caller's id joins the calls of one operation across services: it wins over the app's.
    const joined = await call({ 'x-request-id': 'from-the-caller' });
    expect(joined).toMatchObject({ id: 'order-3', echoed: 'from-the-caller' });
    expect(joined.requestLine).toHaveLength(1);
  });

  it("serves an app whose genReqId returns a number (Fastify's own example), keeping its ids", async () => {
    let i = 0;
    const { call } = await idApp({
      genReqId: (() => i++) as unknown as () => string,
      logController: new LogController({ disableRequestLogging: true }),
    });
    for (const expected of ['0', '1']) {
      const answer = await call();
      expect(answer.id).toBe(expected); // Fastify's id, made once per request
      expect(answer.echoed).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/); // not a string: the kit's own
      expect(answer.requestLine).toHaveLength(1);
    }
  });

  it("keeps request.id the requestId when a plugin sets Fastify's genReqId during ready(), and says why", async () => {
    let n = 0;
    const plugin = Object.assign(
      (instance: { setGenReqId(generate: () => string): void }, _options: unknown, done: () => void) => {
        instance.setGenReqId(() => `plug-${++n}`);
        done();
      },
      { [Symbol.for('skip-override')]: true }, // as fastify-plugin wraps it: the root's generator
    );
    const logs = captureLogs();
    const app = Fastify({
      loggerInstance: createLogger({ service: 'ids', destination: logs }),
      logController: new LogController({ disableRequestLogging: true }),
    });
    app.register(plugin as never);
    app.get('/id', async (request) => request.id);
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    const response = await get(`${baseUrl(runtime.server!)}/id`);
    expect(response.body).toBe('plug-1');
    expect(response.headers['x-request-id']).toBe('plug-1');
    expect(
      logs.lines.find((line) => String(line.msg).startsWith("Fastify's genReqId was replaced")),
    ).toMatchObject({ level: 'warn' });
  });

  it("gives the requests of a plugin's routes the ids of the plugin's own setGenReqId: request.id, requestId, echoed", async () => {
    const logs = captureLogs();
    const app = Fastify({
      loggerInstance: createLogger({ service: 'ids', destination: logs }),
      logController: new LogController({ disableRequestLogging: true }),
    });
    app.get('/id', async (request) => request.id);
    app.register(
      async (plugin) => {
        let n = 0;
        plugin.setGenReqId(() => (++n === 3 ? 'bad id' : `plug-${n}`));
        plugin.get('/id', async (request) => {
          request.log.info('in the plugin');
          return request.id;
        });
      },
      { prefix: '/orders' },
    );
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    const call = async (path: string, headers: Record<string, string> = {}) => {
      const response = await get(`${baseUrl(runtime.server!)}${path}`, { headers });
      const echoed = response.headers['x-request-id'];
      const line = logs.find('request completed').find((l) => l.requestId === echoed);
      return { id: response.body, echoed, line };
    };
    const made = await call('/orders/id');
    expect(made).toMatchObject({ id: 'plug-1', echoed: 'plug-1', line: { route: '/orders/id' } });
    expect(logs.find('in the plugin')[0]).toMatchObject({ reqId: 'plug-1', requestId: 'plug-1' });
    // As with the root's genReqId: the caller's id wins, a malformed one is not taken.
    const joined = await call('/orders/id', { 'x-request-id': 'from-the-caller' });
    expect(joined).toMatchObject({ id: 'plug-2', echoed: 'from-the-caller' });
    const bad = await call('/orders/id');
    expect(bad.id).toBe('bad id');
    expect(bad.echoed).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    expect(bad.line).toBeDefined();
    // The root's routes and the 404 keep the kit's ids.
    const root = await call('/id');
    expect(root.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    expect(root.echoed).toBe(root.id);
    const missing = await call('/orders/missing');
    expect(missing.echoed).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    expect(missing.line).toBeDefined();
    expect(logs.lines.filter((line) => line.level === 'warn' || line.level === 40)).toEqual([]);
  });

  it("makes the ids of a request without the header named by Fastify's requestIdHeader, and takes that header", async () => {
    const { call } = await idApp({
      requestIdHeader: 'x-correlation-id',
      logController: new LogController({ disableRequestLogging: true }),
    });
    const adopted = await call({ 'x-correlation-id': 'from-fastify-header' });
    expect(adopted).toMatchObject({ id: 'from-fastify-header', echoed: 'from-fastify-header' });
    expect(adopted.inRoute[0]).toMatchObject({ reqId: 'from-fastify-header' });
    const made = await call(); // Fastify's counter (req-1) without the kit
    expect(made.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    expect(made.echoed).toBe(made.id);
    expect(made.inRoute[0]).toMatchObject({ reqId: made.id });
    const ours = await call({ 'x-request-id': 'from-the-kit-header' });
    expect(ours).toMatchObject({ id: 'from-the-kit-header', echoed: 'from-the-kit-header' });
    const bad = await call({ 'x-correlation-id': 'has a space' }); // Fastify takes it as it is; the kit does not
    expect(bad.id).toBe('has a space');
    expect(bad.echoed).toMatch(/^[0-9a-f]{8}-/);
    expect(bad.requestLine).toHaveLength(1);
  });
});
