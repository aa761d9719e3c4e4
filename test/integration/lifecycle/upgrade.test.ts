import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ChildApp, freePort, startChild } from '../../support/child.js';

const fixture = new URL('../../fixtures/websocket-app.mjs', import.meta.url).pathname;
let app: ChildApp | undefined;

afterEach(() => {
  app?.child.kill('SIGKILL');
  app = undefined;
});

async function startWebSocketApp(env: Record<string, string>) {
  const port = await freePort();
  app = startChild(fixture, { PORT: String(port), ...env });
  await app.waitForLine((l) => l.msg === `listening on port ${port}`);
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  const messages: string[] = [];
  client.on('message', (data) => messages.push(String(data)));
  const closed = new Promise<{ code: number; at: number }>((resolve) =>
    client.once('close', (code) => resolve({ code, at: performance.now() })),
  );
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  return { app, client, messages, closed };
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
    expect(closedAt - signalledAt).toBeGreaterThanOrEqual(1_400);
    expect(exit.code).toBe(1);
    expect(app.lines.find((l) => l.msg?.toString().startsWith('shutdown timed out'))).toMatchObject({
      upgraded: 1,
      msg: 'shutdown timed out after 1500 ms: destroying what is left, 1 upgraded connection (WebSocket) among them',
    });
  });
});
