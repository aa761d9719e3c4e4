import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppExit, AppProcess } from '../../../src/cli/app-process.js';
import { runDrain } from '../../../src/cli/drain-run.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/**
 * An app served in this process that "exits" at once on SIGTERM, its connections closing `closesAfterMs`
 * later as the checker sees them: on a busy machine the checker may see the exit of the app before the
 * closes of its connections, which the system made at the exit.
 */
function exitingAtOnce(srv: Server, closesAfterMs: number): AppProcess {
  let exit: AppExit | undefined;
  let exited: (value: AppExit) => void = () => {};
  const startedAt = performance.now();
  const app = {
    startedAt,
    get running() {
      return exit === undefined;
    },
    get exit() {
      return exit;
    },
    exited: new Promise<AppExit>((resolve) => {
      exited = resolve;
    }),
    signal() {
      exit = { code: 0, signal: null, atMs: performance.now() - startedAt };
      exited(exit);
      setTimeout(() => srv.closeAllConnections(), closesAfterMs);
      return true;
    },
    killGroup() {},
  };
  return app as unknown as AppProcess;
}

describe('runDrain on a busy machine', () => {
  it('counts the connections an app that exits at once closes, though the checker sees its exit before their closes', async () => {
    server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const drain = await runDrain(exitingAtOnce(server, 30), {
      endpoint: { host: '127.0.0.1', port },
      load: { connections: 4, requests: 120, path: '/' },
      graceMs: 2000,
    });

    // What makes the drain `fail`: a connection closed under a request, or closed at once when idle.
    expect(drain.signalled).toBe(true);
    expect(drain.requests.failedOnOpenConnections + drain.requests.closedAtOnce).toBeGreaterThan(0);
  });
});
