import { once } from 'node:events';
import { Agent, createServer, get as httpGet, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

function handler(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/slow') setTimeout(() => res.end('slow whole'), 1_000);
  else res.end('fast');
}

function request(port: number, agent: Agent, path: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('aborted', () => reject(new Error(`${path}: aborted`)));
    }).on('error', reject);
  });
}

describe('runtime.manageServer after listen()', () => {
  it('drains the connections opened before it: 8 idle closed after the grace, 8 busy answered whole', async () => {
    const { runtime } = await startRuntime({ shutdown: { idleGraceMs: 300, timeoutMs: 10_000 } });
    const server = createServer(runtime.createRequestListener(handler));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const idleAgent = new Agent({ keepAlive: true, maxSockets: 8 });
    const busyAgent = new Agent({ keepAlive: true, maxSockets: 8 });
    await Promise.all(Array.from({ length: 8 }, () => request(port, idleAgent, '/')));
    const busy = Array.from({ length: 8 }, () => request(port, busyAgent, '/slow'));
    await new Promise((resolve) => setTimeout(resolve, 100));

    runtime.manageServer(server);
    const result = await runtime.shutdown('test');

    expect(await Promise.all(busy)).toEqual(Array(8).fill({ status: 200, body: 'slow whole' }));
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.durationMs).toBeLessThan(3_000);
    expect(server.listening).toBe(false);
    idleAgent.destroy();
    busyAgent.destroy();
  });

  it('closes a connection opened before it that never sent a request, after the grace, not at the deadline', async () => {
    const { runtime } = await startRuntime({ shutdown: { idleGraceMs: 200, timeoutMs: 5_000 } });
    const server = createServer(runtime.createRequestListener(handler));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const silent = connect(port, '127.0.0.1');
    await new Promise((resolve) => silent.once('connect', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the server has it

    runtime.manageServer(server);
    const closed = new Promise((resolve) => silent.once('close', resolve));
    const result = await runtime.shutdown('test');
    await closed;
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.durationMs).toBeLessThan(2_000);
  });
});

describe('runtime.manageServer after listen(), with WebSockets already open', () => {
  it('says how many upgraded connections it cannot see, and what to do', async () => {
    const { runtime, logs } = await startRuntime({ shutdown: { timeoutMs: 5_000 } });
    const server = createServer(runtime.createRequestListener(handler));
    const wss = new WebSocketServer({ server });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const clients = Array.from({ length: 2 }, () => new WebSocket(`ws://127.0.0.1:${port}/`));
    await Promise.all(clients.map((client) => once(client, 'open')));

    runtime.manageServer(server);
    await expect.poll(() => logs.lines.filter((l) => l.upgraded === 2)).toHaveLength(1);
    expect(logs.lines.find((l) => l.upgraded === 2)).toMatchObject({
      level: 'warn',
      port,
      msg: expect.stringContaining('were open before runtime.manageServer(server)'),
    });

    for (const client of clients) client.terminate();
    wss.close();
    server.close();
  });
});
