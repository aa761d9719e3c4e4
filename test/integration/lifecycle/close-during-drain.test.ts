// A server.close() that is not the kit's, during its drain: Socket.IO's io.close() on runtime.signal
// (reproduced in plain Node: test/support/engine-io-like.ts), or a leftover server.close().
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { attachLikeEngineIo } from '../../support/engine-io-like.js';
import { openSocket, readResponse, request } from '../../support/raw-http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

const ok = (_req: unknown, res: { end(body: string): void }) => res.end('ok');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const portOf = (server: Server) => (server.address() as AddressInfo).port;

/** `count` kept-alive sockets, each past one answered request: idle, as a load balancer's pool. */
async function idleSockets(port: number, count: number): Promise<{ socket: Socket; closed: boolean }[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const socket = await openSocket(port);
      const entry = { socket, closed: false };
      socket.once('close', () => {
        entry.closed = true;
      });
      socket.on('error', () => {});
      socket.write(request('/warm'));
      await readResponse(socket);
      return entry;
    }),
  );
}

describe("a server.close() of someone else's during the drain", () => {
  it("io.close() on runtime.signal: the idle keep-alive sockets are kept for their grace, a request on one is served, and a line names Socket.IO's close and the fix", async () => {
    // Arrange
    const { runtime, logs } = await startRuntime({ app: ok, shutdown: { idleGraceMs: 1_000 } });
    const server = runtime.server!;
    const port = portOf(server);
    const io = await attachLikeEngineIo(server);
    const sockets = await idleSockets(port, 4);
    runtime.signal.addEventListener('abort', () => void io.close());

    // Act
    const done = runtime.shutdown('test');
    await sleep(30);
    sockets[0]!.socket.write(request('/after-signal'));
    const answer = await readResponse(sockets[0]!.socket);
    await sleep(100);

    // Assert: Node's server.close() would have closed all four at once (ECONNRESET above).
    expect(answer.head).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answer.head).toMatch(/\r\nconnection: close/i);
    expect(sockets.slice(1).filter((s) => s.closed)).toHaveLength(0);
    const warning = logs.lines.find((l) => l.level === 'warn');
    expect(warning).toMatchObject({
      port,
      phase: 'draining connections',
      calledFrom: expect.stringMatching(/[\\/]socket\.io[\\/]dist[\\/]index\.mjs:3:/),
    });
    expect(String(warning!.msg)).toBe(
      `the server on port ${port} was closed by io.close() of Socket.IO during the drain, not by the kit: ` +
        'Node would have closed its idle keep-alive connections at once, under a client writing its next request on one ' +
        '(ECONNRESET); the kit closes them after their idle grace; on runtime.signal call io.engine.close() (its clients ' +
        'reconnect to another instance), not io.close(), which closes the server too (docs/shutdown.md, "Socket.IO")',
    );
    expect((await done).exitCode).toBe(0);
    expect(sockets.every((s) => s.closed)).toBe(true);
  });

  it('a leftover server.close() during the drain delay: new connections are refused, but the open sockets are served through the delay and the drain, and a line says so', async () => {
    // Arrange
    const { runtime, logs } = await startRuntime({
      app: ok,
      shutdown: { drainDelayMs: 400, idleGraceMs: 300 },
    });
    const server = runtime.server!;
    const port = portOf(server);
    const [kept] = await idleSockets(port, 1);
    runtime.signal.addEventListener('abort', () => server.close());

    // Act
    const done = runtime.shutdown('test');
    await sleep(100);
    kept!.socket.write(request('/in-the-delay'));
    const inDelay = await readResponse(kept!.socket);
    const refused = await openSocket(port).catch((error: NodeJS.ErrnoException) => error.code);
    await sleep(450);
    kept!.socket.write(request('/in-the-drain'));
    const inDrain = await readResponse(kept!.socket);

    // Assert
    expect(inDelay.head).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(inDelay.head).not.toMatch(/\r\nconnection: close/i);
    expect(refused).toBe('ECONNREFUSED'); // Node's close stops the listener: the kit does not fight it
    expect(inDrain.head).toMatch(/\r\nconnection: close/i);
    const warning = logs.lines.find((l) => l.level === 'warn');
    expect(warning).toMatchObject({ port, phase: 'drain delay', calledFrom: expect.any(String) });
    expect(String(warning!.msg)).toMatch(
      new RegExp(
        `^the server on port ${port} was closed by server\\.close\\(\\) during the shutdown's drain delay, not by the kit: it refuses new connections from now on \\(/readyz included\\)`,
      ),
    );
    expect(String(warning!.msg)).toContain(
      'remove that server.close() (on runtime.signal, or a leftover of @godaddy/terminus or lightship): the kit closes the server itself',
    );
    expect((await done).exitCode).toBe(0);
  });

  it('once the requests are drained (an onShutdown hook), server.close() is let be and nothing is said', async () => {
    // Arrange
    const { runtime, logs } = await startRuntime({ app: ok });
    const server = runtime.server!;
    let closedWith: unknown = 'not called';
    runtime.onShutdown(
      'server',
      () =>
        new Promise<void>((resolve) =>
          server.close((error) => {
            closedWith = error;
            resolve();
          }),
        ),
    );

    // Act
    const result = await runtime.shutdown('test');

    // Assert
    expect(result.exitCode).toBe(0);
    expect((closedWith as NodeJS.ErrnoException | undefined)?.code).toBe('ERR_SERVER_NOT_RUNNING');
    expect(logs.lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(Object.hasOwn(server, 'close')).toBe(false); // put back once stopped
  });
});
