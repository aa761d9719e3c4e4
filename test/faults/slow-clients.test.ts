// Clients that hold a connection without ever finishing a request — one that opens a socket and
// sends nothing, one that sends its headers a few bytes at a time (slowloris) — must not hold the
// shutdown: on a real SIGTERM the app still serves the request in flight, closes those sockets and
// exits within shutdown.timeoutMs. (Idle keep-alive sockets and never-ending responses are covered
// in test/integration/lifecycle/shutdown.test.ts.)
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { killApps, type RunningApp, startApp } from '../support/app-process.js';
import { get } from '../support/http.js';

const fixture = new URL('../fixtures/faults/app.mjs', import.meta.url).pathname;
/** Room for a busy 2-core machine between the deadline and the process's exit. */
const exitMarginMs = 1_500;

afterEach(killApps);

/** A client socket, with when (if ever) it closed and what the server wrote to it. */
interface ObservedSocket {
  readonly socket: Socket;
  readonly closedAt: Promise<number>;
  received(): string;
}

async function openSocket(app: RunningApp): Promise<ObservedSocket> {
  const socket = connect(app.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  socket.on('error', () => {}); // a reset is one way of being closed
  const closedAt = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
  return { socket, closedAt, received: () => received };
}

/** Writes a request line, then one header byte every `everyMs` until the socket closes. */
function trickleHeaders(client: ObservedSocket, everyMs: number): () => number {
  let sent = 0;
  client.socket.write('GET /fast HTTP/1.1\r\nHost: localhost\r\n');
  const header =
    'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const timer = setInterval(() => {
    if (client.socket.destroyed || client.socket.writableEnded) return;
    client.socket.write(header[sent % header.length]!);
    sent += 1;
  }, everyMs);
  void client.closedAt.then(() => clearInterval(timer));
  return () => sent;
}

describe('shutdown with clients that never finish a request', () => {
  it('closes a silent socket and a slowloris socket after the idle grace, serves the request in flight, exits 0 on time', async () => {
    const timeoutMs = 4_000;
    const app = await startApp(fixture, { TIMEOUT_MS: String(timeoutMs), IDLE_GRACE_MS: '500' });
    const silent = await openSocket(app);
    const slowloris = await openSocket(app);
    const trickled = trickleHeaders(slowloris, 50);
    await new Promise((resolve) => setTimeout(resolve, 300)); // both sockets are accepted and waiting
    const inFlight = get(`${app.url}/slow?ms=800`);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const signalledAt = app.signal('SIGTERM');
    const [response, exit, silentClosedAt, slowClosedAt] = await Promise.all([
      inFlight,
      app.exit(),
      silent.closedAt,
      slowloris.closedAt,
    ]);

    expect(response).toMatchObject({ status: 200, body: 'slow ok' });
    expect(exit.code).toBe(0);
    expect(exit.elapsedMs).toBeLessThan(timeoutMs + exitMarginMs);
    // Closed by the drain, not by the process's death: before the exit, and nothing was answered.
    const exitedAt = signalledAt + exit.elapsedMs;
    expect(silentClosedAt).toBeLessThanOrEqual(exitedAt);
    expect(slowClosedAt).toBeLessThanOrEqual(exitedAt);
    expect(silent.received()).toBe('');
    expect(slowloris.received()).toBe('');
    expect(trickled()).toBeGreaterThan(5); // it was still trickling when the drain began
    expect(app.lines.at(-1)).toMatchObject({ msg: 'shutdown complete', exitCode: 0 });
  });
});
