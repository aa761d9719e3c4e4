import type { IncomingMessage, ServerResponse } from 'node:http';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { runtimeMetricNames } from '../../../src/index.js';
import { captureEmf, type EmfDocument } from '../../support/emf.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

// A full collection on demand, so that memory held and then released is measured, not guessed.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let held: number[][] = [];

/** `/block?ms=N` blocks the event loop; `/hold?mb=N` allocates and keeps N MB; `/release` lets it go. */
function app(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const amount = Number(url.searchParams.get('ms') ?? url.searchParams.get('mb') ?? 0);
  if (url.pathname === '/block') {
    const until = performance.now() + amount;
    while (performance.now() < until) {
      // a route doing heavy synchronous work
    }
  } else if (url.pathname === '/hold') {
    for (let i = 0; i < amount; i++) held.push(new Array<number>(131_072).fill(i)); // 1 MB each
  } else if (url.pathname === '/release') {
    held = [];
  }
  res.end('ok');
}

const runtimeDocuments = (documents: EmfDocument[]) => documents.filter((d) => d.HeapUsed !== undefined);

describe('runtime metrics of an app under load', () => {
  it('are written each interval, valid, and rise with a blocking route and with held memory', async () => {
    const emf = captureEmf();
    const { runtime } = await startRuntime({ app, metrics: { destination: emf } });
    const url = baseUrl(runtime.server!);
    await runtime.metrics.flush();
    const quiet = runtimeDocuments(emf.documents()).at(-1);

    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 5; i++) await get(`${url}/block?ms=50`);
    await get(`${url}/hold?mb=64`);
    await runtime.metrics.flush();
    const loaded = runtimeDocuments(emf.documents()).at(-1);
    await get(`${url}/release`);

    expect(Object.keys(runtimeMetricNames).every((name) => typeof loaded![name] === 'number')).toBe(true);
    expect(runtimeDocuments(emf.documents())).toHaveLength(2);
    expect(loaded!.EventLoopDelayMax).toBeGreaterThanOrEqual(25);
    expect(loaded!.EventLoopDelayP99).toBeGreaterThanOrEqual(25);
    expect(quiet!.EventLoopDelayMax ?? 0).toBeLessThan(25);
    expect((loaded!.HeapUsed as number) - (quiet!.HeapUsed as number)).toBeGreaterThan(50 * 1024 * 1024);
    expect(loaded).toMatchObject({ Service: expect.any(String) });
    expect(loaded!.Route).toBeUndefined();
  });

  it('are off with metrics.runtime: false', async () => {
    const emf = captureEmf();
    const { runtime } = await startRuntime({ app, metrics: { destination: emf, runtime: false } });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.metrics.flush();
    expect(emf.documents().length).toBeGreaterThan(0);
    expect(runtimeDocuments(emf.documents())).toEqual([]);
  });
});

describe('load shedding on memory', () => {
  it("warns once at start of a maxHeapUsedBytes at or above V8's heap limit, which it could never reach", async () => {
    const { heap_size_limit: heapSizeLimit } = getHeapStatistics();
    const { logs } = await startRuntime({ app, loadShedding: { maxHeapUsedBytes: heapSizeLimit } });
    const below = await startRuntime({ app, loadShedding: { maxHeapUsedBytes: heapSizeLimit - 1 } });

    const warned = logs.lines.filter((line) => line.heapLimit !== undefined);
    expect(warned).toEqual([
      expect.objectContaining({
        level: 'warn',
        maxHeapUsedBytes: heapSizeLimit,
        heapLimit: heapSizeLimit,
        msg: expect.stringContaining(
          `such as ${Math.floor(heapSizeLimit * 0.8)}, 80 % of it), or raise --max-old-space-size`,
        ),
      }),
    ]);
    expect(below.logs.lines.filter((line) => line.heapLimit !== undefined)).toEqual([]);
  });

  it('answers 503 with Retry-After past maxHeapUsedBytes, keeps health up, and recovers below 90 %', async () => {
    gc();
    const { heapUsed } = process.memoryUsage();
    const limit = heapUsed + 48 * 1024 * 1024;
    const { runtime, logs } = await startRuntime({
      app,
      loadShedding: { maxHeapUsedBytes: limit, intervalMs: 50 },
    });
    const url = baseUrl(runtime.server!);
    expect((await get(`${url}/`)).status).toBe(200);

    await get(`${url}/hold?mb=96`);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const shed = await get(`${url}/`);
    const health = await get(`${url}/healthz`);
    held = [];
    gc();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const after = await get(`${url}/`);

    expect(shed.status).toBe(503);
    expect(shed.headers['retry-after']).toBe('1');
    expect(health.status).toBe(200);
    expect(after.status).toBe(200);
    expect(logs.find('memory under pressure: shedding load')).toHaveLength(1);
    expect(logs.find('memory under pressure: shedding load')[0]).toMatchObject({ maxHeapUsedBytes: limit });
    expect(logs.find('memory recovered: no longer shedding')).toHaveLength(1);
    expect(runtime.stats()).toMatchObject({ shed: 1, pressure: false });
  });
});

describe('loadShedding.respond', () => {
  /** Two requests at once on an app that takes 200 ms, with room for one: the second is shed. */
  async function shedOne(respond: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>) {
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => setTimeout(() => res.end('served'), 200),
      loadShedding: { maxInFlight: 1, respond },
    });
    const url = baseUrl(runtime.server!);
    const headers = { 'x-request-id': 'caller-id' };
    const [first, second] = await Promise.all([get(`${url}/`, { headers }), get(`${url}/`, { headers })]);
    return { served: first!, shed: second!, runtime, logs };
  }

  it("writes the app's own response; the kit keeps counting it and keeps Retry-After unless replaced", async () => {
    const { served, shed, runtime } = await shedOne((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end('busy, try again');
    });
    expect(served.body).toBe('served');
    expect(shed).toMatchObject({ status: 503, body: 'busy, try again' });
    expect(shed.headers['retry-after']).toBe('1');
    expect(runtime.stats().shed).toBe(1);

    const own = await shedOne((_req, res) => {
      res.writeHead(429, { 'retry-after': '30' });
      res.end();
    });
    expect(own.shed.status).toBe(429);
    expect(own.shed.headers['retry-after']).toBe('30');
  });

  it('may be async: awaited when it answers late, and a rejection ends the response instead of hanging it', async () => {
    const late = await shedOne(async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      res.end('later');
    });
    expect(late.shed).toMatchObject({ status: 503, body: 'later' });

    const rejected = await shedOne(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('template missing');
    });
    expect(rejected.shed.status).toBe(503);
    expect(
      rejected.logs.lines.filter((l) => String(l.msg).startsWith('loadShedding.respond threw')),
    ).toHaveLength(1);
  });

  it("falls back to the kit's 503 when it throws (logged once) or writes nothing", async () => {
    const thrown = await shedOne(() => {
      throw new Error('template missing');
    });
    expect(thrown.shed.status).toBe(503);
    expect(JSON.parse(thrown.shed.body)).toMatchObject({ reason: 'overloaded' });
    // What was set before respond ran stays: the caller's request id.
    expect(thrown.shed.headers['x-request-id']).toBe('caller-id');
    expect(
      thrown.logs.lines.filter((l) => String(l.msg).startsWith('loadShedding.respond threw')),
    ).toHaveLength(1);

    const silent = await shedOne(() => {});
    expect(silent.shed.status).toBe(503);
    expect(JSON.parse(silent.shed.body)).toMatchObject({ reason: 'overloaded' });
  });
});
