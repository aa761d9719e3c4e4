import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { KeepAliveLoad } from '../../../src/cli/keep-alive-load.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server answering at once (`answer`); `stop` is what it does as the load marks the stop signal. */
async function loadAgainst(
  stop: (server: Server) => void,
  answer: (res: ServerResponse) => void = (res) => {
    res.end('ok');
  },
) {
  server = createServer((_req, res) => answer(res));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const load = new KeepAliveLoad({
    endpoint: { host: '127.0.0.1', port },
    path: '/',
    connections: 4,
    maxRequests: 400,
    requestTimeoutMs: 2_000,
    thinkMs: 20, // mostly idle between answers: the case under test
  });
  load.start();
  while (load.completed < 20) await delay(5);
  load.markSignal();
  stop(server!);
  await delay(150);
  load.stop();
  await load.finished;
  load.destroy();
  return load;
}

describe('KeepAliveLoad.closedAtOnce', () => {
  it('counts the idle connections an app closes at once after the signal, without Connection: close', async () => {
    const load = await loadAgainst((s) => {
      s.close();
      s.closeIdleConnections(); // what http.Server#close does on Node >= 19: the keep-alive race
    });
    expect(load.closedAtOnce).toBeGreaterThan(0);
  });

  it('counts them when the checker, held up on a busy machine, sees their close long after the answer', async () => {
    const load = await loadAgainst((s) => {
      s.close();
      s.closeIdleConnections();
      // The checker not scheduled for 300 ms: the closes of a few milliseconds after the last answers
      // are handled 300 ms after them.
      const until = performance.now() + 300;
      while (performance.now() < until);
    });
    expect(load.closedAtOnce).toBeGreaterThan(0);
  });

  it('counts none when the app says Connection: close, nor the load’s own closes', async () => {
    let closing = false;
    const load = await loadAgainst(
      () => {
        closing = true;
      },
      (res) => {
        if (closing) res.setHeader('connection', 'close');
        res.end('ok');
      },
    );
    expect(load.closedAtOnce).toBe(0);
    expect(load.completed).toBeGreaterThan(20);
  });
});
