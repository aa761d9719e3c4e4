// server.close() during the drain stops accepting only: node:http2's servers too.
import { connect, createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { watchCloseCalls } from '../../../src/lifecycle/close-calls.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('watchCloseCalls', () => {
  it("keeps an HTTP/2 server's sessions open (no GOAWAY) when its close() is called during the drain", async () => {
    const server: Http2Server = createServer();
    server.on('stream', (stream) => stream.respond({ ':status': 200 }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    cleanups.push(() => client.destroy());
    await new Promise<void>((resolve, reject) =>
      client.once('connect', () => resolve()).once('error', reject),
    );
    let goaway = false;
    client.on('goaway', () => {
      goaway = true;
    });
    const reports: (string | undefined)[] = [];
    const unwatch = watchCloseCalls(
      server,
      () => true,
      (calledFrom) => reports.push(calledFrom),
    );

    server.close();
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(reports).toHaveLength(1);
    expect(server.listening).toBe(false);
    // Node's Http2Server#close would have sent every session its GOAWAY at once.
    expect(goaway).toBe(false);
    expect(client.closed).toBe(false);
    unwatch();
    expect(Object.hasOwn(server, 'close')).toBe(false);
  });
});
