import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

/** Sends a POST head on a new connection and writes up to `bodyBytes`; resolves with the answer's head and the bytes written. */
async function post(
  port: number,
  bodyBytes: number,
): Promise<{ head: string; socket: Socket; written: Promise<number> }> {
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
  socket.on('error', () => {}); // the server may reset a connection it closed while bytes arrive
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
  return { head: await answered, socket, written };
}

function closed(socket: Socket): Promise<void> {
  return socket.destroyed
    ? Promise.resolve()
    : new Promise((resolve) => socket.once('close', () => resolve()));
}

describe('load shedding: a refused upload', () => {
  it('closes the connection of a refused request with a large body, not reading it; keeps a small one alive', async () => {
    let release: () => void = () => {};
    const { runtime } = await startRuntime({
      app: (req, res) => {
        if (req.url === '/slow') release = () => res.end('slow');
        else {
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
    await new Promise((resolve) => setTimeout(resolve, 50));

    const upload = await post(port, 64 * 1024 * 1024);
    expect(upload.head).toMatch(/^HTTP\/1\.1 503 /);
    expect(upload.head.toLowerCase()).toContain('connection: close');
    await closed(upload.socket);
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
});
