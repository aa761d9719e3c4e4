import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';
import { testTls } from '../../support/tls.js';

afterEach(stopRuntimes);

const tls = testTls;

/** `/slow` answers after 1.5 s, in two writes; anything else at once. */
function handler(req: IncomingMessage, res: ServerResponse): void {
  if (req.url !== '/slow') {
    res.end('fast');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.write('first half, ');
  setTimeout(() => res.end('second half'), 1_500);
}

function fetchOver(port: number, agent: Agent, path: string) {
  return new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
    httpsGet({ host: '127.0.0.1', port, path, agent, ca: tls.cert, servername: 'localhost' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
      res.on('aborted', () => reject(new Error(`${path}: aborted after ${JSON.stringify(body)}`)));
    }).on('error', reject);
  });
}

async function managedHttpsServer(shutdown: { idleGraceMs?: number; timeoutMs?: number } = {}) {
  const { runtime, logs } = await startRuntime({ shutdown });
  const server = createServer(tls, runtime.createRequestListener(handler));
  runtime.manageServer(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { runtime, logs, server, port: (server.address() as AddressInfo).port };
}

describe('shutdown of an HTTPS server', () => {
  it('lets a 1.5 s response in flight at the drain arrive whole, past the idle grace', async () => {
    const { runtime, port } = await managedHttpsServer({ idleGraceMs: 300, timeoutMs: 5_000 });
    const agent = new Agent({ keepAlive: true });
    const slow = fetchOver(port, agent, '/slow');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const result = await runtime.shutdown('test');

    // Its headers went out before the drain, so it cannot say `Connection: close`; its body must end.
    expect(await slow).toMatchObject({ status: 200, body: 'first half, second half' });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(1_200);
    agent.destroy();
  });

  it('closes an idle keep-alive TLS socket after the idle grace, well before the deadline', async () => {
    const { runtime, server, port } = await managedHttpsServer({ idleGraceMs: 200, timeoutMs: 5_000 });
    const agent = new Agent({ keepAlive: true });
    expect((await fetchOver(port, agent, '/')).body).toBe('fast');

    const result = await runtime.shutdown('test');

    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.durationMs).toBeLessThan(2_000);
    expect(server.listening).toBe(false);
    agent.destroy();
  });

  it('answers a request sent on an open TLS socket during the drain, with Connection: close', async () => {
    const { runtime, port } = await managedHttpsServer({ idleGraceMs: 1_000, timeoutMs: 5_000 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await fetchOver(port, agent, '/')).connection).not.toBe('close');

    const stopping = runtime.shutdown('test');
    const reused = await fetchOver(port, agent, '/');

    expect(reused).toEqual({ status: 200, body: 'fast', connection: 'close' });
    expect(await stopping).toMatchObject({ exitCode: 0, timedOut: false });
    agent.destroy();
  });
});

describe('bootstrapAppRunner with server.tls', () => {
  it('serves the app and the health endpoints over HTTPS, and says so on the listening line', async () => {
    const { runtime, logs } = await startRuntime({ app: handler, server: { tls } });
    const port = (runtime.server!.address() as AddressInfo).port;
    const agent = new Agent({ keepAlive: true });

    expect(await fetchOver(port, agent, '/healthz')).toMatchObject({ status: 200 });
    const slow = fetchOver(port, agent, '/slow');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const result = await runtime.shutdown('test');

    expect(await slow).toMatchObject({ status: 200, body: 'first half, second half' });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(logs.find(`listening on port ${port}`)[0]).toMatchObject({ protocol: 'https', framework: 'node' });
    agent.destroy();
  });

  it("drains a Fastify app created with Fastify's own https option the same way", async () => {
    const { default: fastify } = await import('fastify');
    const app = fastify({ https: tls });
    app.get('/slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return 'whole';
    });
    const { runtime } = await startRuntime({ app, shutdown: { idleGraceMs: 300, timeoutMs: 5_000 } });
    const port = (runtime.server!.address() as AddressInfo).port;
    const agent = new Agent({ keepAlive: true });
    const slow = fetchOver(port, agent, '/slow');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const result = await runtime.shutdown('test');

    expect(await slow).toEqual({ status: 200, body: 'whole', connection: 'close' });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    agent.destroy();
  });

  it('refuses server.tls for a Fastify app, naming the option and the fix', async () => {
    const { default: fastify } = await import('fastify');
    const error = await startRuntime({ app: fastify(), server: { tls } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ARK_CONFIG_INVALID', field: 'server.tls' });
    expect((error as Error).message).toContain('fastify({ https: { key, cert } })');
  });

  it('refuses a certificate OpenSSL cannot use, naming server.tls and the likely mistake', async () => {
    const app = (_req: IncomingMessage, res: ServerResponse) => res.end('ok');
    // A path where the PEM contents go.
    const path = await startRuntime({
      app,
      server: { tls: { key: 'certs/key.pem', cert: 'certs/cert.pem' } },
    }).catch((e: unknown) => e);
    expect(path).toMatchObject({ code: 'ARK_CONFIG_INVALID', field: 'server.tls' });
    expect((path as Error).message).toContain('give the PEM contents (readFileSync(path)), not a path');
    expect((path as Error).cause).toMatchObject({ code: 'ERR_OSSL_PEM_NO_START_LINE' });
    // The key of another certificate.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const otherKey = privateKey.export({ type: 'pkcs8', format: 'pem' });
    const mismatch = await startRuntime({ app, server: { tls: { key: otherKey, cert: tls.cert } } }).catch(
      (e: unknown) => e,
    );
    expect(mismatch).toMatchObject({ code: 'ARK_CONFIG_INVALID', field: 'server.tls' });
    expect((mismatch as Error).message).toContain('the key does not belong to the certificate');
  });
});
