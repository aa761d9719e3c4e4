// A drain that takes long says, every few seconds, what it still waits for.
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ShutdownCoordinator } from '../../../src/lifecycle/shutdown-coordinator.js';
import { captureLogs } from '../../support/log-capture.js';

const servers: ReturnType<typeof createServer>[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections();
});

/** A server holding `GET /events?token=…` open (a stream), and the response once it began. */
async function streaming() {
  let held: ServerResponse | undefined;
  const opened = Promise.withResolvers<void>();
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: hello\n\n');
    held = res;
    opened.resolve();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  request({ host: '127.0.0.1', port, path: '/events?token=s3cr3t' })
    .on('response', (res) => res.resume())
    .on('error', () => {})
    .end();
  await opened.promise;
  return { server, end: () => held?.end() };
}

function coordinator(signals: NodeJS.Signals[]) {
  const logs = captureLogs();
  const shutdown = new ShutdownCoordinator(
    { timeoutMs: 5_000, drainDelayMs: 0, idleGraceMs: 0, hookTimeoutMs: 500, signals, progressEveryMs: 60 },
    pino({ base: null }, logs),
    false,
  );
  return { logs, shutdown };
}

describe('a long drain', () => {
  it('names the responses still open every few seconds, the deadline, and that a second signal exits', async () => {
    const { server, end } = await streaming();
    const { logs, shutdown } = coordinator(['SIGTERM', 'SIGINT']);
    shutdown.addServer(server, true);
    shutdown.markReady();
    const done = shutdown.shutdown('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const progress = logs.lines.filter((line) => String(line.msg).startsWith('still shutting down'));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatchObject({
      level: 30,
      phase: 'draining connections',
      inFlight: 1,
      openResponses: [{ method: 'GET', path: '/events', count: 1 }],
    });
    expect(progress[0]!.deadlineInMs).toBeGreaterThan(3_000);
    expect(progress[0]!.msg).toMatch(
      /^still shutting down after 0 s \(draining connections\): 1 response still open: GET \/events \(.*\); the deadline is in \d s, and a second signal \(Ctrl\+C again\) exits at once$/,
    );
    expect(JSON.stringify(progress)).not.toContain('s3cr3t');
    end();
    expect((await done).exitCode).toBe(0);
    // Not once it is done.
    const count = logs.lines.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(logs.lines.length).toBe(count);
  });

  it('promises no second signal where signals do not start the shutdown', async () => {
    const { server, end } = await streaming();
    const { logs, shutdown } = coordinator([]);
    shutdown.addServer(server, true);
    shutdown.markReady();
    const done = shutdown.shutdown('runtime.shutdown()');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [first] = logs.lines.filter((line) => String(line.msg).startsWith('still shutting down'));
    expect(first?.msg).toMatch(/the deadline is in \d s$/);
    end();
    await done;
  });
});
