import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  getRequestContext,
  ListenError,
  SecretReferenceError,
  UnsupportedAppError,
} from '../../src/index.js';
import { attachLikeEngineIo, type EngineIoLike } from '../support/engine-io-like.js';
import { baseUrl, get } from '../support/http.js';
import { startRuntime, stopRuntimes } from '../support/runtime.js';

function hello(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('content-type', 'application/json');
  if (req.url?.startsWith('/missing') || req.url?.startsWith('/healthz/')) res.statusCode = 404;
  res.end(JSON.stringify({ url: req.url, method: req.method, requestId: getRequestContext()?.requestId }));
}

afterEach(stopRuntimes);

describe('bootstrapAppRunner with a Node request listener', () => {
  it('serves the app on an ephemeral port and logs that it listens', async () => {
    const { runtime, logs } = await startRuntime({ app: hello, service: 'svc' });
    expect(runtime.state).toBe('ready');
    const response = await get(`${baseUrl(runtime.server!)}/hello`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ url: '/hello', method: 'GET' });
    const [listening] = logs.lines.filter((l) => String(l.msg).startsWith('listening on port'));
    expect(listening).toMatchObject({ level: 'info', service: 'svc', framework: 'node' });
    expect(listening?.port).toBe((runtime.server!.address() as AddressInfo).port);
  });

  it('answers /healthz and /readyz in front of the app, as application/health+json', async () => {
    const { runtime } = await startRuntime({ app: hello });
    const url = baseUrl(runtime.server!);
    const live = await get(`${url}/healthz`);
    expect(live.status).toBe(200);
    expect(JSON.parse(live.body)).toMatchObject({ status: 'pass', serviceId: 'apprunner-kit' });
    expect(live.headers['content-type']).toBe('application/health+json');
    expect(live.headers['cache-control']).toBe('no-store');
    const ready = await get(`${url}/readyz?probe=1`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'pass' });
    const head = await get(`${url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('leaves other methods and deeper paths to the app', async () => {
    const { runtime } = await startRuntime({ app: hello });
    const url = baseUrl(runtime.server!);
    expect(JSON.parse((await get(`${url}/healthz`, { method: 'POST' })).body)).toMatchObject({
      method: 'POST',
    });
    expect((await get(`${url}/healthz/deep`)).status).toBe(404);
  });

  it('fails readiness while draining, and keeps liveness', async () => {
    const { runtime } = await startRuntime({ app: hello, shutdown: { drainDelayMs: 300, timeoutMs: 5_000 } });
    const url = baseUrl(runtime.server!);
    const stopping = runtime.shutdown('test');
    expect(runtime.state).toBe('draining');
    expect(runtime.signal.aborted).toBe(true);
    const ready = await get(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'fail',
      checks: { 'lifecycle:state': [{ status: 'fail', observedValue: 'draining' }] },
    });
    expect((await get(`${url}/healthz`)).status).toBe(200);
    const result = await stopping;
    expect(result).toMatchObject({ reason: 'test', exitCode: 0, timedOut: false });
    expect(runtime.state).toBe('stopped');
  });

  it('writes one request line per request, with its requestId, and none for health checks', async () => {
    const { runtime, logs } = await startRuntime({ app: hello });
    const url = baseUrl(runtime.server!);
    await get(`${url}/missing?token=secret`, { headers: { 'x-request-id': 'req-42' } });
    await get(`${url}/healthz`);
    await get(`${url}/readyz`);
    const lines = logs.find('request completed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ requestId: 'req-42', method: 'GET', path: '/missing', statusCode: 404 });
    expect(typeof lines[0]?.durationMs).toBe('number');
    expect(JSON.stringify(logs.lines)).not.toContain('secret');
  });

  it('turns the request line off with logging.requests: false', async () => {
    const { runtime, logs } = await startRuntime({ app: hello, logging: { requests: false } });
    await get(`${baseUrl(runtime.server!)}/hello`);
    expect(logs.find('request completed')).toHaveLength(0);
  });

  it('logs a 5xx response at error level', async () => {
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => {
        res.statusCode = 503;
        res.end();
      },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    expect(logs.find('request failed')[0]).toMatchObject({ level: 'error', statusCode: 503 });
  });

  it('replaces a malformed X-Request-Id with a generated one', async () => {
    const { runtime } = await startRuntime({ app: hello });
    const url = baseUrl(runtime.server!);
    const forged = await get(`${url}/x`, { headers: { 'x-request-id': 'a b"}{' } });
    const generated = JSON.parse(forged.body).requestId as string;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    const tooLong = await get(`${url}/x`, { headers: { 'x-request-id': 'x'.repeat(129) } });
    expect(JSON.parse(tooLong.body).requestId).not.toBe('x'.repeat(129));
  });

  it('serves a Koa-shaped app through its callback()', async () => {
    const koaLike = { middleware: [], use: () => koaLike, on: () => koaLike, callback: () => hello };
    const { runtime, logs } = await startRuntime({ app: koaLike });
    expect((await get(`${baseUrl(runtime.server!)}/k`)).status).toBe(200);
    expect(logs.lines.find((l) => l.framework === 'koa')).toBeDefined();
  });

  it("leaves a Koa app's middleware as it is and still logs its route pattern", async () => {
    const Koa = (await import('koa')).default;
    const Router = (await import('@koa/router')).default;
    const app = new Koa();
    const router = new Router();
    router.get('/items/:id', (ctx) => {
      ctx.body = { id: ctx.params.id };
    });
    app.use(router.routes());
    const before = [...app.middleware];
    const { runtime, logs } = await startRuntime({ app });
    expect(app.middleware).toEqual(before);
    expect((await get(`${baseUrl(runtime.server!)}/items/7`)).status).toBe(200);
    await expect
      .poll(() => logs.lines.find((l) => l.msg === 'request completed'))
      .toMatchObject({
        path: '/items/7',
        route: '/items/:id',
      });
  });

  it('wires manually without app', async () => {
    const { runtime } = await startRuntime();
    expect(runtime.server).toBeUndefined();
    const server = createServer(runtime.createRequestListener(hello));
    runtime.manageServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    expect((await get(`${baseUrl(server)}/healthz`)).status).toBe(200);
    expect(JSON.parse((await get(`${baseUrl(server)}/m`)).body).requestId).toBeTypeOf('string');
    await runtime.shutdown('manual');
    expect(server.listening).toBe(false);
  });
});

/** Sends `request` on a raw socket; resolves with all the server wrote before it closed. */
async function rawExchange(port: number, request: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => {
    received += String(chunk);
  });
  socket.on('error', () => {}); // the server resets it after its answer
  await once(socket, 'connect');
  socket.write(request);
  await once(socket, 'close');
  return received;
}

describe('runtime.server in beforeListen', () => {
  it("is the kit's server already (a request listener's, as Express's and Koa's): engine.io attached there answers its path in front of the kit, which serves the rest", async () => {
    // Arrange
    let io: EngineIoLike | undefined;
    const { runtime, logs } = await startRuntime({
      app: hello,
      beforeListen: async (rt) => {
        io = await attachLikeEngineIo(rt.server!);
      },
    });
    const url = baseUrl(runtime.server!);

    // Act
    const poll = get(`${url}/socket.io/?EIO=4&transport=polling`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    io!.engineClose();
    const routed = await get(`${url}/hello`);

    // Assert
    expect((await poll).body).toBe('6');
    expect(JSON.parse(routed.body)).toMatchObject({ url: '/hello', requestId: expect.any(String) });
    expect(logs.lines.filter((l) => l.msg === 'request completed').map((l) => l.path)).toEqual(['/hello']);
  });

  it("leaves the app's listener alone on the server when nothing took it there", async () => {
    let inBeforeListen: unknown;
    const { runtime } = await startRuntime({
      app: hello,
      beforeListen: (rt) => {
        inBeforeListen = rt.server;
      },
    });
    expect(inBeforeListen).toBe(runtime.server);
    expect(runtime.server!.listeners('request').map((l) => l.name)).toEqual(['apprunnerKitListener']);
  });

  it('is undefined for a Fastify app, whose server is its own, until the app is installed', async () => {
    let inBeforeListen: unknown = 'not called';
    const { runtime } = await startRuntime({
      app: Fastify(),
      beforeListen: (rt) => {
        inBeforeListen = rt.server;
      },
    });
    expect(inBeforeListen).toBeUndefined();
    expect(runtime.server).toBeDefined();
  });
});

describe('requests Node refuses before they reach the app', () => {
  it('answer as Node does, with a warn line naming the status, the code and the client, never the bytes', async () => {
    const { runtime, logs } = await startRuntime({ app: hello });
    const { port } = runtime.server!.address() as AddressInfo;
    const cookie = `session=${'s3cr3t'.repeat(4_000)}`; // 24 KB, over Node's 16 KB of headers
    const answer = await rawExchange(port, `GET / HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);

    const refused = logs.lines.filter((l) =>
      String(l.msg).startsWith('request refused before it reached the app'),
    );
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({ level: 'warn', statusCode: 431, code: 'HPE_HEADER_OVERFLOW' });
    expect(refused[0]?.clientIp).toMatch(/127\.0\.0\.1$/);
    expect(refused[1]).toMatchObject({ statusCode: 400, code: expect.stringMatching(/^HPE_/) });
    expect(JSON.stringify(logs.lines)).not.toContain('s3cr3t');
    // The app is served as before.
    expect((await get(`${baseUrl(runtime.server!)}/hello`)).status).toBe(200);
  });

  it('answer as Node does behind a response whose head is set but not yet sent (writeHead, then a wait)', async () => {
    const { runtime } = await startRuntime({
      app: (_req, res) => {
        res.writeHead(200);
        setTimeout(() => res.end('late'), 300);
      },
    });
    const { port } = runtime.server!.address() as AddressInfo;
    const answer = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\nNOT HTTP AT ALL\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it("leaves the answers Node's server writes itself after the parser as they are, with no line (docs/logging.md)", async () => {
    // Node tells no listener of a missing Host; a `checkExpectation` or `connect` listener would take
    // the answer over from Node (none, the socket left open): the kit adds neither.
    const { runtime, logs } = await startRuntime({ app: hello });
    const { port } = runtime.server!.address() as AddressInfo;
    expect(await rawExchange(port, 'GET /hello HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const expectation =
      'POST /hello HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
    expect(await rawExchange(port, expectation)).toMatch(/^HTTP\/1\.1 417 Expectation Failed\r\n/);
    expect(await rawExchange(port, 'CONNECT host:443 HTTP/1.1\r\nHost: host:443\r\n\r\n')).toBe('');
    expect(runtime.server!.listenerCount('checkExpectation') + runtime.server!.listenerCount('connect')).toBe(
      0,
    );
    expect(logs.lines.filter((l) => l.level === 'warn' || l.msg === 'request completed')).toEqual([]);
  });

  it('writes ten lines a minute at most', async () => {
    const { runtime, logs } = await startRuntime({ app: hello });
    const { port } = runtime.server!.address() as AddressInfo;
    for (let i = 0; i < 15; i++) await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n');
    const refused = logs.lines.filter((l) => String(l.msg).startsWith('request refused'));
    expect(refused).toHaveLength(10);
  });

  it('leaves the answer to an app that listens for clientError itself', async () => {
    const { runtime, logs } = await startRuntime({ app: hello });
    runtime.server!.on('clientError', (_error, socket) => socket.end('HTTP/1.1 418 Teapot\r\n\r\n'));
    const { port } = runtime.server!.address() as AddressInfo;
    expect(await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n')).toBe('HTTP/1.1 418 Teapot\r\n\r\n');
    expect(logs.lines.filter((l) => String(l.msg).startsWith('request refused'))).toHaveLength(1);
  });
});

describe('bootstrapAppRunner failures', () => {
  it.each([[{}], [42], ['app'], [null]])('rejects %j as an unsupported app', async (app) => {
    const promise = startRuntime({ app: app as never });
    await expect(promise).rejects.toBeInstanceOf(UnsupportedAppError);
    await expect(promise).rejects.toThrow(/request listener/);
  });

  it('rejects a node:http server given as the app, naming the fixes: its app, or manageServer', async () => {
    const server = createServer(hello);
    const promise = startRuntime({ app: server as never });
    await expect(promise).rejects.toBeInstanceOf(UnsupportedAppError);
    await expect(promise).rejects.toThrow(
      /^bootstrapAppRunner\(\{ app \}\) received a server \(of node:http, node:https or node:http2\), not an app: pass the app it serves/,
    );
    await expect(promise).rejects.toThrow(
      'create it with http.createServer(runtime.createRequestListener(app)), call runtime.manageServer(server) and listen yourself.',
    );
  });

  it('rejects a malformed secret reference before anything starts: a runtime can start after it', async () => {
    const handlers = () => ['SIGTERM', 'warning'].map((event) => process.listenerCount(event));
    const before = handlers();
    const shutdown = { signals: ['SIGTERM' as const] };

    await expect(
      startRuntime({ app: hello, shutdown, secrets: { TOKEN: 'no-such-scheme:token' } }),
    ).rejects.toBeInstanceOf(SecretReferenceError);

    expect(handlers()).toEqual(before);
    const { runtime } = await startRuntime({ app: hello, shutdown });
    await runtime.shutdown();
    expect(handlers()).toEqual(before);
  });

  it('rejects bad configuration before anything starts', async () => {
    await expect(startRuntime({ app: hello, env: { PORT: 'eighty' } })).rejects.toBeInstanceOf(
      ConfigurationError,
    );
  });

  it('fails with ListenError, naming the port and the fix, when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const promise = startRuntime({ app: hello, port });
      await expect(promise).rejects.toBeInstanceOf(ListenError);
      await expect(promise).rejects.toThrow(new RegExp(`port ${port}.*EADDRINUSE.*free one`));
    } finally {
      blocker.close();
    }
  });
});
