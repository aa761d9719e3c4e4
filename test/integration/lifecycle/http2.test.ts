// HTTP/2 (`node:http2`, Fastify's `http2: true`): requests are streams of one session per connection,
// and there is no `Connection: close`. The drain sends each session a GOAWAY and lets its streams end.
import {
  connect,
  constants,
  createSecureServer,
  createServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeRequestListener } from '../../../src/index.js';
import { streamOf } from '../../support/http2.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';
import { testTls } from '../../support/tls.js';

afterEach(stopRuntimes);

const tls = testTls;

/** `/slow?ms=N` answers after N ms (1 s by default), in two writes; anything else at once. */
function handler(req: Http2ServerRequest, res: Http2ServerResponse): void {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname !== '/slow') {
    res.end('fast');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.write('first half, ');
  setTimeout(() => res.end('second half'), Number(url.searchParams.get('ms') ?? 1_000));
}

async function managedHttp2Server(
  secure: boolean,
  shutdown: { timeoutMs?: number } = {},
  adopt: 'before listen' | 'after the first request' = 'before listen',
) {
  const { runtime, logs } = await startRuntime({ shutdown: { idleGraceMs: 100, ...shutdown } });
  // The compat API's request and response stand in for node:http's, as Fastify's http2 mode takes them.
  const listener = runtime.createRequestListener(
    handler as unknown as NodeRequestListener,
  ) as unknown as typeof handler;
  const server: Http2Server = secure ? createSecureServer(tls, listener) : createServer(listener);
  if (adopt === 'before listen') runtime.manageServer(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const session = connect(`${secure ? 'https' : 'http'}://localhost:${port}`, { ca: tls.cert });
  session.on('error', () => {}); // a session cut at the deadline
  if (adopt === 'after the first request') {
    expect(await streamOf(session, '/fast')).toEqual({ status: 200, body: 'fast' });
    runtime.manageServer(server);
  }
  return { runtime, logs, session };
}

const nodeMajor = Number(process.versions.node.split('.')[0]);

describe.each([
  ['cleartext (h2c)', false],
  ['over TLS (h2)', true],
])('shutdown of an HTTP/2 server, %s', (_name, secure) => {
  it('sends a GOAWAY, lets a stream in flight end whole past the idle grace, then closes', async () => {
    const { runtime, logs, session } = await managedHttp2Server(secure);
    expect(await streamOf(session, '/fast')).toEqual({ status: 200, body: 'fast' });
    const goaway = new Promise<number>((resolve) => session.once('goaway', resolve));
    const slow = streamOf(session, '/slow');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const result = await runtime.shutdown('test');
    expect(await goaway).toBe(0); // NO_ERROR: a graceful close
    expect(await slow).toEqual({ status: 200, body: 'first half, second half' });
    expect(result.exitCode).toBe(0);
    expect(logs.find('shutdown started')[0]).toMatchObject({ inFlight: 1 });
    session.destroy();
  });

  // Node 22 keeps no set of an HTTP/2 server's sessions: adopt such a server before listen() there.
  it.skipIf(nodeMajor < 24)('drains a session opened before manageServer() too', async () => {
    const { runtime, session } = await managedHttp2Server(secure, {}, 'after the first request');
    const goaway = new Promise<number>((resolve) => session.once('goaway', resolve));
    const slow = streamOf(session, '/slow');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const result = await runtime.shutdown('test');
    expect(await goaway).toBe(0);
    expect(await slow).toEqual({ status: 200, body: 'first half, second half' });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    session.destroy();
  });

  it('logs a stream the client cancelled as aborted, not as a 200 that completed', async () => {
    const { logs, session } = await managedHttp2Server(secure);
    const stream = session.request({ ':path': '/slow?ms=2000' });
    stream.on('error', () => {});
    await new Promise((resolve) => stream.once('response', resolve));
    stream.close(constants.NGHTTP2_CANCEL);
    await expect.poll(() => logs.lines.find((l) => l.path === '/slow')).toBeDefined();
    const line = logs.lines.find((l) => l.path === '/slow')!;
    expect(line).toMatchObject({ level: 'warn', msg: 'request aborted' });
    session.destroy();
  });

  it('destroys a stream that outlasts the deadline, and names it on the timeout line without throwing', async () => {
    const { runtime, logs, session } = await managedHttp2Server(secure, { timeoutMs: 400 });
    const slow = streamOf(session, '/slow?ms=5000&token=secret');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const result = await runtime.shutdown('test');
    expect(result.exitCode).toBe(1);
    expect((await slow).body).toBe('first half, ');
    expect(logs.lines.find((l) => String(l.msg).startsWith('shutdown timed out'))).toMatchObject({
      inFlight: 1,
      openResponses: [{ method: 'GET', path: '/slow', count: 1 }],
      msg: expect.stringContaining('1 response still open: GET /slow (a long poll or a stream'),
    });
    expect(JSON.stringify(logs.lines)).not.toContain('secret');
    session.destroy();
  });
});

describe('an HTTP/2 request that started work outliving it', () => {
  it('leaves its response free once it ended: the request context, which that work keeps, lets it go', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { runtime } = await startRuntime({});
    const timers: NodeJS.Timeout[] = [];
    const responses: WeakRef<object>[] = [];
    const listener = runtime.createRequestListener(((_req: Http2ServerRequest, res: Http2ServerResponse) => {
      timers.push(setTimeout(() => {}, 600_000).unref()); // keeps the request's context
      responses.push(new WeakRef(res));
      res.end('ok');
    }) as unknown as NodeRequestListener) as unknown as typeof handler;
    const server = createServer(listener);
    runtime.manageServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = connect(`http://localhost:${(server.address() as AddressInfo).port}`);
    for (let i = 0; i < 20; i++) expect((await streamOf(session, '/')).body).toBe('ok');
    session.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(responses.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
    for (const timer of timers) clearTimeout(timer);
  });
});
