// What http-terminator's and stoppable's own suites check of a graceful shutdown, written as the
// kit's tests (issue 20, scope 6) and run on every cell of {HTTP, HTTPS} x {node listener, Express,
// Fastify}. Where the kit chose differently (an idle socket lives for the idle grace, not zero), the
// test checks the kit's choice, and says so.
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { type AddressInfo, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { BootstrapOptions } from '../../../src/index.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';
import { testTls } from '../../support/tls.js';

afterEach(stopRuntimes);

const tls = testTls;

type Protocol = 'http' | 'https';
type Adapter = 'node' | 'express' | 'fastify';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const msOf = (url: string | undefined) => Number(new URL(url ?? '/', 'http://x').searchParams.get('ms') ?? 0);

/**
 * The same three routes on each adapter: `/fast`; `/slow?ms=N`, whose headers go out only when it
 * answers, after N ms (so a drain that starts meanwhile can still add `Connection: close`); `/hang`,
 * which never answers.
 */
async function appFor(
  adapter: Adapter,
  protocol: Protocol,
): Promise<Pick<BootstrapOptions, 'app' | 'server'>> {
  const server = protocol === 'https' && adapter !== 'fastify' ? { tls } : {};
  if (adapter === 'node') {
    const app = (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/slow')) setTimeout(() => res.end('slow'), msOf(req.url));
      else if (req.url !== '/hang') res.end('fast');
    };
    return { app, server };
  }
  if (adapter === 'express') {
    const { default: express } = await import('express');
    const app = express();
    app.get('/fast', (_req, res) => {
      res.send('fast');
    });
    app.get('/slow', (req, res) => {
      setTimeout(() => res.send('slow'), msOf(req.url));
    });
    app.get('/hang', () => {});
    return { app, server };
  }
  const { default: fastify } = await import('fastify');
  // One route table for both: an HTTPS instance differs from an HTTP one only in its server's type.
  const app = (protocol === 'https' ? fastify({ https: tls }) : fastify()) as unknown as FastifyInstance;
  app.get('/fast', async () => 'fast');
  app.get('/slow', async (req) => {
    await delay(msOf(req.url));
    return 'slow';
  });
  app.get('/hang', () => new Promise(() => {}));
  return { app };
}

interface Reply {
  status: number;
  body: string;
  connection: string | undefined;
  /** The client port of the socket it came on: equal ports, same socket. */
  localPort: number | undefined;
}

/** A keep-alive client with one socket, and raw connections, speaking `protocol` to `port`. */
function clientFor(protocol: Protocol, port: number) {
  const tlsOptions = { ca: tls.cert, servername: 'localhost' };
  const agent =
    protocol === 'https'
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ...tlsOptions })
      : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  return {
    agent,
    get(path: string): Promise<Reply> {
      const send = protocol === 'https' ? httpsRequest : httpRequest;
      return new Promise((resolve, reject) => {
        const options = { host: '127.0.0.1', port, path, agent, ...(protocol === 'https' ? tlsOptions : {}) };
        send(options, (res) => {
          const localPort = res.socket.localPort; // the socket leaves the response once it is pooled
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection, localPort }),
          );
          res.on('aborted', () => reject(new Error(`${path}: aborted`)));
        })
          .on('error', reject)
          .end();
      });
    },
    /** A connection that sends nothing (over HTTPS: after its handshake, unless `layer` is `'tcp'`). */
    open(layer: 'tcp' | 'protocol' = 'protocol'): Promise<Socket> {
      return new Promise((resolve, reject) => {
        const socket =
          protocol === 'https' && layer === 'protocol'
            ? tlsConnect({ host: '127.0.0.1', port, ...tlsOptions }, () => resolve(socket))
            : netConnect({ host: '127.0.0.1', port }, () => resolve(socket));
        socket.once('error', reject);
      });
    },
  };
}

/** Resolves with the milliseconds from now until `socket` closes. */
function closedAfter(socket: Socket): Promise<number> {
  const start = performance.now();
  return new Promise((resolve) => socket.once('close', () => resolve(performance.now() - start)));
}

async function started(
  adapter: Adapter,
  protocol: Protocol,
  shutdown: { idleGraceMs: number; timeoutMs: number },
) {
  const { runtime } = await startRuntime({ ...(await appFor(adapter, protocol)), shutdown });
  const port = (runtime.server!.address() as AddressInfo).port;
  return { runtime, port, client: clientFor(protocol, port) };
}

const cells = (['http', 'https'] as const).flatMap((protocol) =>
  (['node', 'express', 'fastify'] as const).map((adapter) => ({ protocol, adapter })),
);

describe.each(cells)('shutdown over $protocol, $adapter', ({ protocol, adapter }) => {
  it('with no connection open, closes the server at once', async () => {
    const { runtime } = await started(adapter, protocol, { idleGraceMs: 1_000, timeoutMs: 5_000 });

    const result = await runtime.shutdown('test');

    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.durationMs).toBeLessThan(500);
    expect(runtime.server!.listening).toBe(false);
  });

  it('sends no Connection: close while it is not shutting down, and keeps the socket', async () => {
    const { client } = await started(adapter, protocol, { idleGraceMs: 1_000, timeoutMs: 5_000 });

    const first = await client.get('/fast');
    const second = await client.get('/fast');

    expect(first).toMatchObject({ status: 200, body: 'fast', connection: 'keep-alive' });
    expect(second).toMatchObject({ status: 200, connection: 'keep-alive', localPort: first.localPort });
    client.agent.destroy();
  });

  it('refuses new connections once the drain started', async () => {
    const { runtime, port, client } = await started(adapter, protocol, {
      idleGraceMs: 1_000,
      timeoutMs: 5_000,
    });
    const holding = client.get('/slow?ms=600');
    await delay(100);

    const stopping = runtime.shutdown('test');
    await delay(50);
    const refused = await new Promise<string | undefined>((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    });

    expect(refused).toBe('ECONNREFUSED');
    expect(await holding).toMatchObject({ status: 200, body: 'slow' });
    expect(await stopping).toMatchObject({ exitCode: 0, timedOut: false });
    client.agent.destroy();
  });

  it('adds Connection: close to a response in flight at the drain, and delivers it whole', async () => {
    const { runtime, client } = await started(adapter, protocol, { idleGraceMs: 1_000, timeoutMs: 5_000 });
    const inFlight = client.get('/slow?ms=400');
    await delay(100);

    const result = await runtime.shutdown('test');

    expect(await inFlight).toMatchObject({ status: 200, body: 'slow', connection: 'close' });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
  });

  it('serves a request sent on a reused keep-alive socket during the drain, with Connection: close', async () => {
    const { runtime, client } = await started(adapter, protocol, { idleGraceMs: 1_000, timeoutMs: 5_000 });
    const before = await client.get('/fast');

    const stopping = runtime.shutdown('test');
    const reused = await client.get('/fast');

    expect(reused).toMatchObject({
      status: 200,
      body: 'fast',
      connection: 'close',
      localPort: before.localPort,
    });
    expect(await stopping).toMatchObject({ exitCode: 0, timedOut: false });
    client.agent.destroy();
  });

  it('resolves as soon as the last in-flight request ends, not at the idle grace or the deadline', async () => {
    const { runtime, client } = await started(adapter, protocol, { idleGraceMs: 3_000, timeoutMs: 8_000 });
    const inFlight = client.get('/slow?ms=500');
    await delay(100);

    const result = await runtime.shutdown('test');

    expect(await inFlight).toMatchObject({ status: 200, body: 'slow' });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(300);
    expect(result.durationMs).toBeLessThan(1_500);
  });

  // http-terminator and stoppable close an idle socket at once; the kit keeps it for the idle grace,
  // so that a request the client was already sending on it is served rather than reset.
  it('closes idle sockets after the idle grace: one that served a request, one that never sent any', async () => {
    const { runtime, client } = await started(adapter, protocol, { idleGraceMs: 300, timeoutMs: 5_000 });
    await client.get('/fast');
    const [used] = Object.values(client.agent.freeSockets).flat();
    const idle = [used!, await client.open()];
    // Over HTTPS, also a TCP connection that never began its handshake.
    if (protocol === 'https') idle.push(await client.open('tcp'));
    const closed = idle.map(closedAfter);

    const result = await runtime.shutdown('test');

    for (const ms of await Promise.all(closed)) {
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(1_500);
    }
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.durationMs).toBeLessThan(1_500);
  });

  it('destroys a hanging request at the deadline and reports the timeout', async () => {
    const { runtime, client } = await started(adapter, protocol, { idleGraceMs: 200, timeoutMs: 800 });
    const hanging = client.get('/hang').then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    await delay(100);

    const result = await runtime.shutdown('test');

    expect(await hanging).toBe('ECONNRESET');
    expect(result).toMatchObject({ exitCode: 1, timedOut: true });
    // Cut at four fifths of the deadline (640 ms): the rest is kept for the final steps.
    expect(result.durationMs).toBeGreaterThanOrEqual(600);
    expect(result.durationMs).toBeLessThan(2_000);
    client.agent.destroy();
  });
});
