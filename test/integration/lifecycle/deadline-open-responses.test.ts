// What held the drain to its deadline, named on the `shutdown timed out` line: Socket.IO's long polls
// (reproduced in plain Node: test/support/engine-io-like.ts), which the kit's listener never sees
// when Socket.IO is attached after the kit took the server, and requests of the app's own.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { attachLikeEngineIo } from '../../support/engine-io-like.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

/** Answers at once, but for a path under /hang/, which it never answers. */
function app(req: IncomingMessage, res: ServerResponse): void {
  if (!req.url?.startsWith('/hang/')) res.end('ok');
}

/** Sends a GET that the server holds; resolves once the server has it. */
function held(port: number, path: string, server: { once(event: 'request', fn: () => void): unknown }) {
  const arrived = new Promise<void>((resolve) => server.once('request', () => resolve()));
  const req = httpRequest({ host: '127.0.0.1', port, path, agent: false });
  req.on('error', () => {}); // destroyed at the deadline
  req.end();
  return arrived;
}

const timedOut = (lines: Record<string, unknown>[]) =>
  lines.find((l) => String(l.msg).startsWith('shutdown timed out'));

describe('the deadline line names the responses still open', () => {
  it("Socket.IO's held long polls, which the kit never saw, and the app's own request: method and path without the query", async () => {
    // Arrange
    const { runtime, logs } = await startRuntime({ app, shutdown: { timeoutMs: 1_000 } });
    const server = runtime.server!;
    const { port } = server.address() as AddressInfo;
    await attachLikeEngineIo(server);
    await held(port, '/socket.io/?EIO=4&transport=polling&sid=first', server);
    await held(port, '/socket.io/?EIO=4&transport=polling&sid=second', server);
    await held(port, '/hang/report?token=secret', server);

    // Act
    const result = await runtime.shutdown('test');

    // Assert
    expect(result).toMatchObject({ exitCode: 1, timedOut: true });
    expect(timedOut(logs.lines)).toMatchObject({
      inFlight: 3,
      openResponses: [
        { method: 'GET', path: '/socket.io/', count: 2 },
        { method: 'GET', path: '/hang/report', count: 1 },
      ],
      msg:
        'shutdown timed out after 800 ms: destroying what is left; 3 responses still open: GET /socket.io/ ×2, ' +
        "GET /hang/report (Socket.IO's long polls end when io.engine.close() is called on runtime.signal)",
    });
    expect(JSON.stringify(logs.lines)).not.toMatch(/sid=|secret/);
  });

  it('ten method and path pairs at most: the responses of the others are counted', async () => {
    // Arrange
    const { runtime, logs } = await startRuntime({ app, shutdown: { timeoutMs: 1_000 } });
    const server = runtime.server!;
    const { port } = server.address() as AddressInfo;
    for (let i = 0; i < 12; i++) await held(port, `/hang/${i}`, server);

    // Act
    await runtime.shutdown('test');

    // Assert
    const line = timedOut(logs.lines);
    expect(line).toMatchObject({ inFlight: 12, openResponsesNotNamed: 2 });
    expect(line!.openResponses).toHaveLength(10);
    expect(String(line!.msg)).toBe(
      'shutdown timed out after 800 ms: destroying what is left; 12 responses still open: ' +
        `${Array.from({ length: 10 }, (_, i) => `GET /hang/${i}`).join(', ')}, 2 more ` +
        '(a long poll or a stream should end on runtime.signal)',
    );
  });

  it('names a request by its path as it arrived, as its request line does, where a mounted router rewrote req.url', async () => {
    // Arrange: Express's app.use('/api/v1', router) sets req.url to the path below the mount.
    const mounted = (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/api/v1/')) req.url = req.url.slice('/api/v1'.length);
      app(req, res);
    };
    const { runtime, logs } = await startRuntime({ app: mounted, shutdown: { timeoutMs: 1_000 } });
    const server = runtime.server!;
    const { port } = server.address() as AddressInfo;
    await held(port, '/api/v1/hang/stream?since=1', server);

    // Act
    await runtime.shutdown('test');

    // Assert
    expect(timedOut(logs.lines)).toMatchObject({
      openResponses: [{ method: 'GET', path: '/api/v1/hang/stream', count: 1 }],
    });
  });
});
