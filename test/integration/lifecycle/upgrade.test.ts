import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ChildApp, freePort, startChild } from '../../support/child.js';

const fixture = new URL('../../fixtures/websocket-app.mjs', import.meta.url).pathname;
const fastifyFixture = new URL('../../fixtures/fastify-websocket-app.mjs', import.meta.url).pathname;
let app: ChildApp | undefined;

afterEach(() => {
  app?.child.kill('SIGKILL');
  app = undefined;
});

async function startWebSocketApp(env: Record<string, string>, script = fixture, path = '/') {
  const port = await freePort();
  app = startChild(script, { PORT: String(port), ...env });
  await app.waitForLine((l) => l.msg === `listening on port ${port}`);
  const { client, messages, closed } = await openClient(port, path);
  return { app, port, client, messages, closed };
}

async function openClient(port: number, path: string) {
  const client = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  const messages: string[] = [];
  client.on('message', (data) => messages.push(String(data)));
  const closed = new Promise<{ code: number; at: number }>((resolve) =>
    client.once('close', (code) => resolve({ code, at: performance.now() })),
  );
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  return { client, messages, closed };
}

describe('upgraded connections (WebSocket, ws) on the kit’s server', () => {
  it('are counted apart from requests, closed by the app with 1001 on runtime.signal, and the process exits 0 soon after', async () => {
    const { app, client, messages, closed } = await startWebSocketApp({ TIMEOUT_MS: '5000' });
    client.send('stats');
    await expect.poll(() => messages.length).toBe(2);
    expect(JSON.parse(messages[1]!)).toMatchObject({ inFlight: 0, upgraded: 1 });

    app.child.kill('SIGTERM');
    const [{ code, at: closedAt }, exit] = await Promise.all([closed, app.exited]);

    expect(code).toBe(1001);
    expect(exit.code).toBe(0);
    expect(exit.at - closedAt).toBeLessThan(1_000);
    expect(app.lines.find((l) => l.msg === 'shutdown started')).toMatchObject({ upgraded: 1, inFlight: 0 });
  });

  it('are destroyed at the deadline when the app ignores the signal, and the line says so', async () => {
    const { app, closed } = await startWebSocketApp({ TIMEOUT_MS: '1500', IGNORE_SIGNAL: '1' });
    const signalledAt = performance.now();

    app.child.kill('SIGTERM');
    const [{ code, at: closedAt }, exit] = await Promise.all([closed, app.exited]);

    expect(code).toBe(1006); // no close frame: the socket was destroyed
    expect(closedAt - signalledAt).toBeGreaterThanOrEqual(1_150); // cut at 1,200 ms, four fifths of it
    expect(exit.code).toBe(1);
    expect(app.lines.find((l) => l.msg?.toString().startsWith('shutdown timed out'))).toMatchObject({
      upgraded: 1,
      msg: 'shutdown timed out after 1200 ms: destroying what is left, 1 upgraded connection (WebSocket) among them',
    });
  });

  it('closed in an onShutdown hook instead: the hook runs only once they are closed, and the line says to close them on runtime.signal', async () => {
    const { app } = await startWebSocketApp({ TIMEOUT_MS: '1500', IGNORE_SIGNAL: '1', CLOSE_IN_HOOK: '1' });
    app.child.kill('SIGTERM');
    expect((await app.exited).code).toBe(1);
    expect(app.lines.find((l) => l.msg?.toString().includes('not run'))).toMatchObject({
      hooks: ['websockets'],
      phase: 'awaiting upgraded connections',
      msg: expect.stringContaining('close them on runtime.signal, not in a hook'),
    });
  });
});

describe('an upgrade that arrives during the drain', () => {
  it('on a kept-alive socket, after runtime.signal aborted: the socket is closed at the idle grace, not held to the deadline', async () => {
    const port = await freePort();
    app = startChild(fixture, { PORT: String(port), TIMEOUT_MS: '5000' });
    await app.waitForLine((l) => l.msg === `listening on port ${port}`);
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (chunk) => {
      received += String(chunk);
    });
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => received).toContain('plain http');

    const signalledAt = performance.now();
    app.child.kill('SIGTERM');
    await app.waitForLine((l) => l.msg === 'shutdown started');
    await delay(300);
    socket.write(
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    const [closedAt, exit] = await Promise.all([
      once(socket, 'close').then(() => performance.now()),
      app.exited,
    ]);

    expect(received).toContain('101 Switching Protocols'); // ws took it: upgrades cannot be refused here
    expect(closedAt - signalledAt).toBeLessThan(2_500);
    expect(exit.code).toBe(0);
  });
});

describe('a WebSocket opened after runtime.signal aborted', () => {
  it('during the drain delay, which the app’s abort listener never saw: closed at the idle grace once the drain begins, not held to the deadline', async () => {
    const {
      app,
      port,
      closed: firstClosed,
    } = await startWebSocketApp({
      TIMEOUT_MS: '5000',
      DRAIN_DELAY_MS: '1000',
    });
    const signalledAt = performance.now();
    app.child.kill('SIGTERM');
    await app.waitForLine((l) => l.msg === 'shutdown started');
    const late = await openClient(port, '/'); // a client that reconnects: the server still listens
    const [first, second, exit] = await Promise.all([firstClosed, late.closed, app.exited]);

    expect(first.code).toBe(1001); // the app's own close, on the signal
    // Drain at 1,000 ms, idle grace 1,000 ms; the deadline would cut it at 4,000 ms.
    expect(second.at - signalledAt).toBeGreaterThanOrEqual(1_900);
    expect(second.at - signalledAt).toBeLessThan(3_500);
    expect(exit.code).toBe(0);
    expect(app.lines.map((l) => l.msg)).not.toContain(expect.stringMatching(/^shutdown timed out/));
  });
});

describe('upgraded connections on Fastify with @fastify/websocket', () => {
  it('are not requests in flight, and are closed by the plugin’s preClose hook once the requests are drained; onClose runs and the process exits 0', async () => {
    const first = await startWebSocketApp({ TIMEOUT_MS: '5000' }, fastifyFixture, '/ws');
    const second = await openClient(first.port, '/ws');
    first.client.send('stats');
    await expect.poll(() => first.messages.length).toBe(2);
    expect(JSON.parse(first.messages[1]!)).toMatchObject({ inFlight: 0, upgraded: 2 });
    // Two open WebSockets and maxInFlight 1: a request is still served, not shed.
    const answer = await fetch(`http://127.0.0.1:${first.port}/`);
    expect([answer.status, await answer.text()]).toEqual([200, 'plain http']);

    const signalledAt = performance.now();
    first.app.child.kill('SIGTERM');
    const [closes, exit] = await Promise.all([Promise.all([first.closed, second.closed]), first.app.exited]);

    for (const { code } of closes) expect(code).not.toBe(1006); // a close frame, not a cut socket
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(2_000);
    const messages = first.app.lines.map((l) => l.msg);
    expect(messages).toContain('fastify onClose');
    expect(messages).not.toContain('request aborted');
    expect(first.app.lines.find((l) => l.msg === 'shutdown started')).toMatchObject({
      upgraded: 2,
      inFlight: 0,
    });
  });
});
