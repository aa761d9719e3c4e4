import { once } from 'node:events';
import {
  connect as connectHttp2,
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { connect, type Socket } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppRunnerRuntime } from '../../../src/index.js';
import { attachLikeEngineIo } from '../../support/engine-io-like.js';
import { baseUrl, get } from '../../support/http.js';
import { streamOf } from '../../support/http2.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

/** Sends a POST head on a new connection and writes up to `bodyBytes`; resolves with the answer's head and the bytes written. */
async function post(
  port: number,
  bodyBytes: number,
): Promise<{
  head: string;
  socket: Socket;
  written: Promise<number>;
  received: () => string;
  errors: string[];
}> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${bodyBytes}\r\n\r\n`);
  let head = '';
  const answered = new Promise<string>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) resolve(head.slice(0, head.indexOf('\r\n\r\n')));
    });
  });
  const errors: string[] = [];
  socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const written = (async () => {
    let sent = 0;
    while (sent < bodyBytes && !socket.destroyed && socket.writable) {
      const size = Math.min(chunk.length, bodyBytes - sent);
      sent += size;
      if (!socket.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
        // Not events.once: it rejects on the 'error' (EPIPE, ECONNRESET) a closed connection gives.
        const drained = await Promise.race([
          new Promise<boolean>((resolve) => socket.once('drain', () => resolve(true))),
          closed(socket).then(() => false),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000)),
        ]);
        if (!drained) break;
      }
    }
    return sent;
  })();
  return { head: await answered, socket, written, received: () => head, errors };
}

function closed(socket: Socket): Promise<void> {
  return socket.destroyed
    ? Promise.resolve()
    : new Promise((resolve) => socket.once('close', () => resolve()));
}

describe('load shedding: a refused upload', () => {
  it('closes the connection of a refused request with a large body, not reading it; keeps a small one alive', async () => {
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const slowArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { runtime } = await startRuntime({
      app: (req, res) => {
        if (req.url === '/slow') {
          release = () => res.end('slow');
          arrived();
        } else {
          req.resume();
          req.on('end', () => res.end('ok'));
        }
      },
      loadShedding: { maxInFlight: 1 },
    });
    const server = runtime.server!;
    const read: Socket[] = [];
    server.on('connection', (socket: Socket) => read.push(socket));
    const port = (server.address() as { port: number }).port;
    const slow = get(`${baseUrl(server)}/slow`); // holds the one slot
    await slowArrived;

    const upload = await post(port, 64 * 1024 * 1024);
    expect(upload.head).toMatch(/^HTTP\/1\.1 503 /);
    expect(upload.head.toLowerCase()).toContain('connection: close');
    await closed(upload.socket);
    // The connection lingered and ended, not reset (EPIPE, ECONNRESET) with the upload's bytes unread.
    expect(upload.errors).toEqual([]);
    expect(upload.received()).toMatch(
      /\r\n\r\n\{"status":503,"error":"Service Unavailable","reason":"overloaded"\}$/,
    );
    const serverSide = read.at(-1)!;
    expect(serverSide.bytesRead).toBeLessThan(16 * 1024 * 1024); // not the 64 MiB the client had to send

    const small = await post(port, 1024);
    expect(small.head).toMatch(/^HTTP\/1\.1 503 /);
    expect(small.head.toLowerCase()).toContain('connection: keep-alive');
    small.socket.destroy();

    release();
    expect((await slow).status).toBe(200);
    expect(runtime.stats()).toMatchObject({ inFlight: 0, shed: 2 });
  });

  it('refuses an HTTP/2 upload with its 503 too (a stream has no connection to close)', async () => {
    let arrived: () => void = () => {};
    const slowArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release: () => void = () => {};
    const { runtime } = await startRuntime({ loadShedding: { maxInFlight: 1 } });
    const listener = runtime.createRequestListener((req, res) => {
      if (req.url === '/slow') {
        release = () => res.end('slow');
        arrived();
      } else res.end('ok');
    }) as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void;
    const server = createHttp2Server(listener);
    runtime.manageServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = connectHttp2(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    session.on('error', () => {});
    const slow = streamOf(session, '/slow');
    await slowArrived;
    // An upload of 1 MiB, its length declared, as a client sends it.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const upload = session.request({
      ':method': 'POST',
      ':path': '/upload',
      'content-length': String(1024 * 1024),
    });
    upload.on('error', () => {}); // the server may reset the stream it answered before its body
    upload.end(Buffer.alloc(1024 * 1024, 0x61));
    const [headers] = (await once(upload, 'response')) as [Record<string, unknown>];
    expect(headers[':status']).toBe(503);
    expect(headers).not.toHaveProperty('connection');
    upload.resume();
    // Node resets the stream with NO_ERROR once it answered (RFC 9113, 8.1): the client stops sending.
    await once(upload, 'close');
    expect(upload.rstCode).toBe(0);
    process.off('warning', onWarning);
    // Given a Connection header, Node drops it and warns (UnsupportedWarning), on every refusal.
    expect(warnings).toEqual([]);
    release();
    expect(await slow).toMatchObject({ status: 200, body: 'slow' });
    session.close();
  });
});

describe('load shedding: exempt requests', () => {
  it('serves a request the exempt function picks, and treats one it throws on as not exempt, said once', async () => {
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const slowArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { runtime, logs } = await startRuntime({
      app: (req, res) => {
        if (req.url === '/slow') {
          release = () => res.end('slow');
          arrived();
        } else res.end('ok');
      },
      loadShedding: {
        maxInFlight: 1,
        exempt: (req) => {
          if (req.headers['x-priority'] === 'broken') throw new Error('priority lookup failed');
          return req.headers['x-priority'] === 'high';
        },
      },
    });
    const url = baseUrl(runtime.server!);
    const slow = get(`${url}/slow`); // holds the one slot
    await slowArrived;
    const high = await get(`${url}/pay`, { headers: { 'x-priority': 'high' } });
    const plain = await get(`${url}/pay`);
    const broken = [
      await get(`${url}/pay`, { headers: { 'x-priority': 'broken' } }),
      await get(`${url}/pay`, { headers: { 'x-priority': 'broken' } }),
    ];
    expect([high.status, plain.status, ...broken.map((r) => r.status)]).toEqual([200, 503, 503, 503]);
    const told = logs.lines.filter((l) => String(l.msg).startsWith('loadShedding.exempt failed'));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ level: 'warn', err: { message: 'priority lookup failed' } });
    release();
    expect((await slow).status).toBe(200);
    // The exempt one was served, not shed; it counted among those in flight meanwhile.
    expect(runtime.stats()).toMatchObject({ inFlight: 0, shed: 3, served: 2 });
  });
});

describe('load shedding: exempt requests in flight', () => {
  /** Sends a GET that the server holds (a long poll); resolves once the app has it. */
  async function holdPoll(url: string, server: { once(event: 'request', fn: () => void): unknown }) {
    const arrived = new Promise<void>((resolve) => server.once('request', () => resolve()));
    void get(`${url}/socket.io/?EIO=4&transport=polling`, { timeoutMs: 30_000 }).catch(() => {});
    await arrived;
  }

  /** Two long polls held, then ten GET /hello: their statuses, and the stats before the polls end. */
  async function helloBesideTwoPolls(runtime: AppRunnerRuntime, endPolls: () => void) {
    const url = baseUrl(runtime.server!);
    await holdPoll(url, runtime.server!);
    await holdPoll(url, runtime.server!);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await get(`${url}/hello`)).status);
    const stats = runtime.stats();
    endPolls();
    return { statuses, stats };
  }

  it('are not counted against maxInFlight: two held long polls leave both slots to the other requests', async () => {
    // Arrange: Socket.IO's engine.io behind the kit (attached before it), as a plain listener does it.
    const polls = new Set<{ end(body: string): void }>();
    const { runtime } = await startRuntime({
      app: (req, res) => {
        if (req.url?.startsWith('/socket.io/')) polls.add(res);
        else res.end('hello');
      },
      loadShedding: { maxInFlight: 2, exempt: ['/socket.io/*'] },
    });

    // Act
    const { statuses, stats } = await helloBesideTwoPolls(runtime, () => {
      for (const poll of polls) poll.end('6');
    });

    // Assert: they once counted as two of two in flight, and every /hello was shed.
    expect(statuses).toEqual(Array(10).fill(200));
    expect(stats).toMatchObject({ inFlight: 2, shed: 0 }); // in flight still, as they are
  });

  it('once closed, no longer set apart: the limit counts what is in flight again', async () => {
    // Arrange
    const held: { end(body: string): void }[] = [];
    const { runtime } = await startRuntime({
      app: (req, res) => {
        if (req.url?.startsWith('/socket.io/') || req.url === '/slow') held.push(res);
        else res.end('hello');
      },
      loadShedding: { maxInFlight: 1, exempt: ['/socket.io/*'] },
    });
    const url = baseUrl(runtime.server!);
    await holdPoll(url, runtime.server!);
    held.shift()!.end('6');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const slowArrived = new Promise<void>((resolve) => runtime.server!.once('request', () => resolve()));
    const slow = get(`${url}/slow`);
    await slowArrived;

    // Act
    const hello = await get(`${url}/hello`);

    // Assert: the slot is the slow request's; the closed poll left no credit behind.
    expect(hello.status).toBe(503);
    held.shift()!.end('slow');
    expect((await slow).status).toBe(200);
  });

  it("on Fastify with Socket.IO attached to fastify.server before the kit (the kit in front of engine.io's listener)", async () => {
    // Arrange
    const fastify = Fastify();
    fastify.get('/hello', async () => 'hello');
    const io = await attachLikeEngineIo(fastify.server);
    const { runtime } = await startRuntime({
      app: fastify,
      quietRequests: ['/socket.io/*'],
      loadShedding: { maxInFlight: 2, exempt: ['/socket.io/*'] },
    });

    // Act
    const { statuses, stats } = await helloBesideTwoPolls(runtime, () => io.engineClose());

    // Assert
    expect(statuses).toEqual(Array(10).fill(200));
    expect(stats).toMatchObject({ inFlight: 2, shed: 0 });
  });
});

describe('load shedding: a browser app on another origin (loadShedding.cors)', () => {
  const origin = 'https://web.example';

  /**
   * A runtime whose one slot a held request takes: the app answers `/slow` when released, a CORS
   * preflight with 204, anything else with 200.
   */
  async function oneSlotHeld(options: Parameters<typeof startRuntime>[0] = {}) {
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const slowArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { runtime, logs } = await startRuntime({
      app: (req, res) => {
        if (req.url === '/slow') {
          release = () => res.end('slow');
          arrived();
        } else if (req.method === 'OPTIONS') {
          res.writeHead(204, {
            'access-control-allow-origin': origin,
            'access-control-allow-methods': 'PUT',
          });
          res.end();
        } else res.end('ok');
      },
      ...options,
      loadShedding: { maxInFlight: 1, ...options.loadShedding },
    });
    const url = baseUrl(runtime.server!);
    const slow = get(`${url}/slow`);
    await slowArrived;
    return {
      runtime,
      logs,
      url,
      done: async () => {
        release();
        expect((await slow).status).toBe(200);
      },
    };
  }

  const preflight = { origin, 'access-control-request-method': 'PUT' };

  it('lets a preflight through past the limit, and names the caller origin and the headers to read on the 503', async () => {
    // Arrange
    const { runtime, url, done } = await oneSlotHeld({ logging: { requestIdHeader: 'x-correlation-id' } });

    // Act
    const answered = await get(`${url}/items`, { method: 'OPTIONS', headers: preflight });
    const shed = await get(`${url}/items`, { headers: { origin, 'x-correlation-id': 'c-1' } });
    const twoOrigins = await get(`${url}/items`, { headers: { origin: [origin, 'https://other.example'] } });
    const notAnOrigin = await get(`${url}/items`, { headers: { origin: 'web.example/path' } });

    // Assert
    expect(answered.status).toBe(204);
    expect(shed.status).toBe(503);
    expect(shed.headers).toMatchObject({
      'access-control-allow-origin': origin,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'retry-after, x-correlation-id',
      vary: 'Origin',
      'retry-after': '1',
      'x-correlation-id': 'c-1',
    });
    for (const refused of [twoOrigins, notAnOrigin]) {
      expect(refused.status).toBe(503);
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    }
    await done();
    // The preflight was let in, served and counted like any request; the other three were shed.
    expect(runtime.stats()).toMatchObject({ inFlight: 0, shed: 3, served: 2 });
  });

  it('sets them before respond, which may change them; a respond that throws leaves them on the kit 503', async () => {
    // Arrange: respond drops the credentials header for one path, throws for another.
    const { url, done, logs } = await oneSlotHeld({
      loadShedding: {
        maxInFlight: 1,
        respond: (req, res) => {
          if (req.url === '/broken') throw new Error('template missing');
          res.removeHeader('access-control-allow-credentials');
          res.setHeader('content-type', 'text/plain');
          res.end(`busy, origin ${String(res.getHeader('access-control-allow-origin'))}`);
        },
      },
    });

    // Act
    const custom = await get(`${url}/items`, { headers: { origin } });
    const fallback = await get(`${url}/broken`, { headers: { origin } });

    // Assert
    expect(custom.status).toBe(503);
    expect(custom.body).toBe(`busy, origin ${origin}`);
    expect(custom.headers['access-control-allow-origin']).toBe(origin);
    expect(custom.headers['access-control-allow-credentials']).toBeUndefined();
    expect(fallback.status).toBe(503);
    expect(JSON.parse(fallback.body)).toMatchObject({ reason: 'overloaded' });
    expect(fallback.headers).toMatchObject({
      'access-control-allow-origin': origin,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'retry-after, x-request-id',
    });
    expect(logs.lines.filter((l) => String(l.msg).startsWith('loadShedding.respond threw'))).toHaveLength(1);
    await done();
  });

  it('with cors: false, sheds a preflight as any request, and answers no CORS headers', async () => {
    // Arrange
    const { url, done } = await oneSlotHeld({ loadShedding: { maxInFlight: 1, cors: false } });

    // Act
    const answered = await get(`${url}/items`, { method: 'OPTIONS', headers: preflight });
    const shed = await get(`${url}/items`, { headers: { origin } });

    // Assert
    expect(answered.status).toBe(503);
    expect(answered.headers['access-control-allow-origin']).toBeUndefined();
    expect(shed.status).toBe(503);
    expect(shed.headers['access-control-allow-origin']).toBeUndefined();
    expect(shed.headers['access-control-expose-headers']).toBeUndefined();
    await done();
  });
});
