import { EventEmitter } from 'node:events';
import { Agent } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { getRequestContext } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

/** Reads the context after several kinds of async hops, and reports every id it saw. */
async function nestedWork(): Promise<string[]> {
  const seen: string[] = [];
  const see = () => seen.push(getRequestContext()?.requestId ?? 'none');
  see();
  await delay(Math.random() * 20);
  see();
  await new Promise<void>((resolve) => setImmediate(resolve));
  see();
  await Promise.all([
    (async () => {
      await delay(Math.random() * 10);
      see();
    })(),
    new Promise<void>((resolve) => {
      const emitter = new EventEmitter();
      emitter.on('tick', () => {
        see();
        resolve();
      });
      setTimeout(() => emitter.emit('tick'), Math.random() * 10);
    }),
  ]);
  queueMicrotask(see);
  await delay(1);
  see();
  return seen;
}

describe('request context', () => {
  it('is isolated across 100 concurrent requests with nested async work', async () => {
    const { runtime } = await startRuntime({
      app: (_req, res) => {
        void nestedWork().then((seen) => res.end(JSON.stringify(seen)));
      },
      logging: { requests: false },
    });
    const url = baseUrl(runtime.server!);
    const agent = new Agent({ keepAlive: true, maxSockets: 100 });
    try {
      const ids = Array.from({ length: 100 }, (_, i) => `req-${i}`);
      const bodies = await Promise.all(
        ids.map((id) => get(`${url}/work`, { headers: { 'x-request-id': id }, agent })),
      );
      bodies.forEach((response, i) => {
        const seen = JSON.parse(response.body) as string[];
        expect(seen).toHaveLength(7);
        expect(new Set(seen)).toEqual(new Set([ids[i]]));
      });
    } finally {
      agent.destroy();
    }
  });

  it('is undefined outside a request', async () => {
    await startRuntime({ app: () => {} });
    expect(getRequestContext()).toBeUndefined();
  });

  it('gives each request without an id a distinct generated one, and keeps the raw trace header', async () => {
    const { runtime } = await startRuntime({
      app: (_req, res) => res.end(JSON.stringify(getRequestContext())),
      logging: { requests: false },
    });
    const url = baseUrl(runtime.server!);
    const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1';
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => get(`${url}/`, { headers: { 'x-amzn-trace-id': trace } })),
    );
    const contexts = responses.map((r) => JSON.parse(r.body) as { requestId: string; traceHeader: string });
    expect(new Set(contexts.map((c) => c.requestId)).size).toBe(20);
    expect(contexts.every((c) => c.traceHeader === trace)).toBe(true);
  });
});

describe('destroyedWithError', () => {
  it('tells a response the server destroyed with an error from one Node reset as the client left', async () => {
    const { destroyedWithError } = await import('../../../src/http/context.js');
    const response = (errored: Error | null, writableFinished = false) =>
      ({ errored, writableFinished }) as unknown as import('node:http').ServerResponse;
    const reset = Object.assign(new Error('aborted'), { code: 'ECONNRESET' }); // Node's own, for a queued response
    expect(destroyedWithError(response(new Error('stream broke')))).toBe(true);
    expect(destroyedWithError(response(Object.assign(new Error('upstream'), { code: 'ECONNRESET' })))).toBe(
      true,
    );
    expect(destroyedWithError(response(reset))).toBe(false);
    expect(destroyedWithError(response(null))).toBe(false);
    expect(destroyedWithError(response(new Error('late'), true))).toBe(false);
  });
});
