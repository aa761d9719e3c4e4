import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { KeepAliveLoad } from '../../../src/cli/keep-alive-load.js';

let server: Server | undefined;
const apps: ChildProcess[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) app.kill('SIGKILL');
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A load on `port`, mostly idle between answers (the case under test), started once it got 20. */
async function startLoad(port: number, thinkMs: number): Promise<KeepAliveLoad> {
  const load = new KeepAliveLoad({
    endpoint: { host: '127.0.0.1', port },
    path: '/',
    connections: 4,
    maxRequests: 400,
    requestTimeoutMs: 2_000,
    thinkMs,
  });
  load.start();
  while (load.completed < 20) await delay(5);
  return load;
}

/** Stops `load` `ms` after the signal, once its requests in flight are over. */
async function stopAfter(load: KeepAliveLoad, ms: number): Promise<KeepAliveLoad> {
  await delay(ms);
  load.stop();
  await load.finished;
  load.destroy();
  return load;
}

/** A server answering at once (`answer`); `stop` is what it does as the load marks the stop signal. */
async function loadAgainst(
  stop: (server: Server) => void,
  answer: (res: ServerResponse) => void = (res) => {
    res.end('ok');
  },
) {
  server = createServer((_req, res) => answer(res));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const load = await startLoad((server.address() as AddressInfo).port, 20);
  load.markSignal();
  stop(server!);
  return stopAfter(load, 150);
}

describe('KeepAliveLoad.closedAtOnce', () => {
  it('counts the idle connections an app closes at once after the signal, without Connection: close', async () => {
    const load = await loadAgainst((s) => {
      s.close();
      s.closeIdleConnections(); // what http.Server#close does on Node >= 19: the keep-alive race
    });
    expect(load.closedAtOnce).toBeGreaterThan(0);
  });

  it('does not count them clean when the checker, held up on a busy machine, sees their close long after the answer', async () => {
    const load = await loadAgainst((s) => {
      s.close();
      s.closeIdleConnections();
      // The checker not scheduled for 300 ms: the closes of a few milliseconds after the last answers
      // are handled 300 ms after them.
      const until = performance.now() + 300;
      while (performance.now() < until);
    });
    // Closed at once, or, the hold-up having begun within 200 ms of the answers and ended after, not
    // known: what an app closing them 250 ms after the answers would show too (below).
    expect(load.closedAtOnce + load.closedUncertain).toBeGreaterThan(0);
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
    expect(load.closedUncertain).toBe(0);
    expect(load.completed).toBeGreaterThan(20);
  });
});

/** A well-behaved app in a child process: it closes a connection idle at SIGTERM only after `graceMs`. */
async function idleGraceApp(graceMs: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [new URL('../../fixtures/cli/idle-grace-app.mjs', import.meta.url).pathname],
    {
      env: { ...process.env, IDLE_GRACE_MS: String(graceMs) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  apps.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, port: Number(/listening (\d+)/.exec(line.toString())?.[1]) };
}

describe('KeepAliveLoad.closedAtOnce, the checker held up over an idle close made after a grace', () => {
  it('does not count as closed at once a connection the app closed 250 ms after its last answer', async () => {
    const { child, port } = await idleGraceApp(250);
    const load = await startLoad(port, 50);
    while (load.inFlight > 0) await delay(1);
    // Every connection idle, its last answer less than 50 ms ago: SIGTERM, then the checker is not
    // scheduled for 600 ms, over the app's closes 250 ms after the signal.
    load.markSignal();
    child.kill('SIGTERM');
    const until = performance.now() + 600;
    while (performance.now() < until);
    await stopAfter(load, 200);
    expect(load.closedAtOnce).toBe(0);
    expect(load.closedUncertain).toBeGreaterThan(0);
  });
});
