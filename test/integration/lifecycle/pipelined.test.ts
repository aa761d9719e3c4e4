// Requests a client pipelined on one keep-alive socket (sent before the first answer: a direct client,
// a load tool; no load balancer) have all reached the app when the drain begins: each is answered, in
// turn, and only the last one's response closes the connection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

const served: string[] = [];

/** Answers each request after the `ms` of its query (200 by default), with its path. */
function app(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  served.push(url.pathname);
  setTimeout(() => res.end(`answered ${url.pathname}`), Number(url.searchParams.get('ms') ?? 200));
}

const head = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`;

/** Everything the server sends on `socket` until it closes it. */
function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('close', () => resolve(text));
    socket.on('error', () => {});
  });
}

/** The status line and headers of each response in `text`, with its body. */
function responses(text: string): { connection: string | undefined; body: string }[] {
  return text
    .split(/(?=HTTP\/1\.1 )/)
    .filter((part) => part !== '')
    .map((part) => {
      const [headText = '', body = ''] = part.split('\r\n\r\n');
      return { connection: /\r\nconnection: ([^\r]*)/i.exec(headText)?.[1]?.toLowerCase(), body };
    });
}

/**
 * A runtime (idle grace 50 ms) and a socket to it on which `first` was written, once the app has it:
 * what the server sends on it until it closes it, and the runtime.
 */
async function servedOnOneSocket(first: string, requests = 1) {
  served.length = 0;
  const { runtime, logs } = await startRuntime({ app, shutdown: { idleGraceMs: 50 } });
  const { port } = runtime.server!.address() as { port: number };
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const received = readAll(socket);
  socket.write(first);
  await expect.poll(() => served.length).toBe(requests);
  return { runtime, logs, socket, received };
}

describe('requests pipelined on one socket at the drain', () => {
  it('are each answered, in turn; the last response alone says Connection: close', async () => {
    // Arrange: three requests in one write; the app has them all when the drain begins.
    const { runtime, logs, received } = await servedOnOneSocket(head('/c1') + head('/c2') + head('/c3'), 3);

    // Act
    const result = await runtime.shutdown('test');

    // Assert
    expect(result.exitCode).toBe(0);
    expect(responses(await received)).toEqual([
      { connection: 'keep-alive', body: 'answered /c1' },
      { connection: 'keep-alive', body: 'answered /c2' },
      { connection: 'close', body: 'answered /c3' },
    ]);
    expect(logs.lines.filter((l) => l.msg === 'request aborted')).toEqual([]);
  });

  it('ones that arrive during the drain behind the response in flight are each answered, quick answers included', async () => {
    // Arrange: the first request is in flight at the drain; two more come in one write once it began,
    // answered at once (their heads written while they wait their turn).
    const { runtime, socket, received } = await servedOnOneSocket(head('/first?ms=300'));

    // Act
    const shutdown = runtime.shutdown('test');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write(head('/second?ms=0') + head('/third?ms=0'));

    // Assert: all answered; the socket closes once idle after the last.
    expect((await shutdown).exitCode).toBe(0);
    expect(responses(await received)).toEqual([
      { connection: 'keep-alive', body: 'answered /first' },
      { connection: 'keep-alive', body: 'answered /second' },
      { connection: 'keep-alive', body: 'answered /third' },
    ]);
  });

  it('one that arrives during the drain and waits its turn unanswered is told to close when its turn comes', async () => {
    const { runtime, socket, received } = await servedOnOneSocket(head('/first?ms=300'));

    const shutdown = runtime.shutdown('test');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write(head('/second?ms=400'));

    expect((await shutdown).exitCode).toBe(0);
    expect(responses(await received)).toEqual([
      { connection: 'keep-alive', body: 'answered /first' },
      { connection: 'close', body: 'answered /second' },
    ]);
  });

  it('a single request in flight still gets Connection: close', async () => {
    const { runtime, received } = await servedOnOneSocket(head('/only'));

    await runtime.shutdown('test');

    expect(responses(await received)).toEqual([{ connection: 'close', body: 'answered /only' }]);
  });
});
