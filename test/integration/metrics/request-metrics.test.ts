import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/index.js';
import { captureEmf, distributionOf, type EmfDocument, sumOf, withDimensions } from '../../support/emf.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

/** Sends `count` GET requests for `pathOf(i)` over `connections` keep-alive sockets; resolves with the statuses. */
async function drive(
  url: string,
  count: number,
  pathOf: (i: number) => string,
  connections = 32,
): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const statuses: number[] = new Array(count);
  let next = 0;
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const req = request(`${url}${pathOf(i)}`, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          statuses[i] = res.statusCode ?? 0;
          resolve();
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error(`request ${i} timed out`)));
      req.on('error', reject);
      req.end();
    });
  const worker = async () => {
    while (next < count) await one(next++);
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    agent.destroy();
  }
  return statuses;
}

function lineBytes(lines: string[]): number {
  return Math.max(...lines.map((line) => Buffer.byteLength(line) - 1));
}

describe('request metrics', () => {
  it('aggregate 10,000 requests on two routes into exact counts, and latency sums equal to the request lines', async () => {
    const app = express();
    app.get('/items/:id', (req, res) => {
      res.status(Number(req.params.id) % 10 === 0 ? 404 : 200).send('item');
    });
    app.get('/orders/:id', (req, res) => {
      res.status(Number(req.params.id) % 20 === 0 ? 500 : 201).send('order');
    });
    const emf = captureEmf();
    const { runtime, logs } = await startRuntime({
      app,
      service: 'notes',
      env: { DEPLOYMENT_ENVIRONMENT: 'test' },
      metrics: { destination: emf, flushIntervalMs: 250 },
    });

    const statuses = await drive(baseUrl(runtime.server!), 10_000, (i) =>
      i % 2 === 0 ? `/items/${i / 2}` : `/orders/${(i - 1) / 2}`,
    );
    await runtime.metrics.flush();

    expect(statuses.filter((s) => s === 404)).toHaveLength(500);
    const documents = emf.documents(); // each line validated against the EMF specification
    expect(lineBytes(emf.lines)).toBeLessThanOrEqual(16_000);
    const items = withDimensions(documents, {
      Service: 'notes',
      Environment: 'test',
      Route: '/items/:id',
      Method: 'GET',
    });
    const orders = withDimensions(documents, { Route: '/orders/:id', Method: 'GET' });
    expect(items.length).toBeGreaterThanOrEqual(2); // flushed on the interval during the run, and at the end
    expect(sumOf(items, 'Requests')).toBe(5_000);
    expect(sumOf(items, '4xxStatusResponses')).toBe(500);
    expect(sumOf(items, '5xxStatusResponses')).toBe(0);
    expect(sumOf(orders, 'Requests')).toBe(5_000);
    expect(sumOf(orders, '4xxStatusResponses')).toBe(0);
    expect(sumOf(orders, '5xxStatusResponses')).toBe(250);

    // The request line and the metrics each read the clock once per request, the metrics first: the
    // sums agree to within the few microseconds between the two readings.
    for (const [route, documentsOfRoute] of [
      ['/items/:id', items],
      ['/orders/:id', orders],
    ] as const) {
      const latency = distributionOf(documentsOfRoute, 'RequestLatency');
      const durations = logs.lines
        .filter((line) => line.route === route)
        .map((line) => line.durationMs as number);
      expect(latency.count).toBe(5_000);
      expect(durations).toHaveLength(5_000);
      const lineSum = durations.reduce((sum, d) => sum + d, 0);
      expect(latency.sum).toBeLessThanOrEqual(lineSum + 1e-6);
      expect(lineSum - latency.sum).toBeLessThan(5_000 * 0.05);
      expect(latency.min).toBeLessThanOrEqual(Math.min(...durations));
      expect(latency.max).toBeLessThanOrEqual(Math.max(...durations));
    }
  }, 60_000);

  it(`count the routes after maxRoutes under Route "other", and say so once`, async () => {
    const app = express();
    for (const path of ['/a', '/b', '/c/:id', '/d']) app.get(path, (_req, res) => res.send('x'));
    const emf = captureEmf();
    const { runtime, logs } = await startRuntime({ app, metrics: { destination: emf, maxRoutes: 2 } });
    const url = baseUrl(runtime.server!);
    await drive(url, 40, (i) => ['/a', '/b', `/c/${i}`, '/d'][i % 4]!, 1);
    await get(`${url}/missing`);
    await runtime.metrics.flush();
    const documents = emf.documents();
    const routes = Object.fromEntries(
      documents.filter((d) => d.Route !== undefined).map((d) => [d.Route, d.Requests]),
    );
    expect(routes).toEqual({ '/a': 10, '/b': 10, other: 20, '(none)': 1 });
    expect(logs.lines.filter((line) => String(line.msg).includes('more than 2 route patterns'))).toHaveLength(
      1,
    );
  });

  it('report the in-flight peak and the requests load shedding turned away', async () => {
    const slow = (_req: IncomingMessage, res: ServerResponse) => {
      setTimeout(() => res.end('slow'), 300);
    };
    const emf = captureEmf();
    const { runtime } = await startRuntime({
      app: slow,
      loadShedding: { maxInFlight: 3 },
      metrics: { destination: emf },
    });
    const statuses = await drive(baseUrl(runtime.server!), 8, () => '/', 8);
    expect(statuses.filter((s) => s === 503)).toHaveLength(5);
    await runtime.metrics.flush();
    const [service] = emf.documents().filter((d) => d.Route === undefined && d.ShedRequests !== undefined);
    expect(service).toMatchObject({ InFlightPeak: 3, ShedRequests: 5 });
    expect(Object.keys(service!).filter((key) => key !== '_aws')).toEqual([
      'Service',
      'InFlightPeak',
      'ShedRequests',
    ]);
    expect(sumOf(emf.documents(), 'Requests')).toBe(3);
  });

  it('report health-check runs and failures per check, counting a shared run once', async () => {
    const emf = captureEmf();
    const { runtime } = await startRuntime({ app: (_req, res) => res.end(), metrics: { destination: emf } });
    let runs = 0;
    runtime.health.register(
      'postgres',
      () => {
        runs++;
        if (runs % 2 === 0) throw new Error('connection refused');
      },
      { minIntervalMs: 0 },
    );
    runtime.health.register('cache', () => true, { minIntervalMs: 60_000 });
    const url = baseUrl(runtime.server!);
    for (let i = 0; i < 6; i++) await get(`${url}/readyz`);
    await runtime.metrics.flush();
    const documents = emf.documents();
    expect(withDimensions(documents, { HealthCheck: 'postgres' })[0]).toMatchObject({
      HealthCheckRuns: 6,
      HealthCheckFailures: 3,
    });
    expect(withDimensions(documents, { HealthCheck: 'cache' })[0]).toMatchObject({
      HealthCheckRuns: 1,
      HealthCheckFailures: 0,
    });
  });

  it('count failed refreshes of a cached secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ark-metrics-'));
    const file = join(dir, 'secrets.json');
    writeFileSync(file, JSON.stringify({ token: 'a-long-secret-value' }));
    try {
      const emf = captureEmf();
      const { runtime } = await startRuntime({
        secrets: { TOKEN: `file:${file}#token` },
        metrics: { destination: emf },
      });
      expect(runtime.secrets.get('TOKEN')).toBe('a-long-secret-value');
      rmSync(file);
      await expect(runtime.secrets.refresh('TOKEN')).rejects.toThrow();
      // Within 1 s of the first: its outcome, shared, not a second call that fails.
      await expect(runtime.secrets.refresh('TOKEN')).rejects.toThrow();
      await expect(runtime.secrets.resolve(`file:${join(dir, 'never.json')}#x`)).rejects.toThrow(); // not a refresh
      runtime.secrets.invalidate('TOKEN');
      runtime.secrets.get('TOKEN'); // stale: a background refresh, which fails too
      await expect.poll(() => runtime.secrets.info('TOKEN')?.failures).toBe(2);
      await runtime.metrics.flush();
      expect(sumOf(emf.documents(), 'SecretRefreshFailures')).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('write app metrics with the default dimensions, and reject invalid names and units', async () => {
    const emf = captureEmf();
    const { runtime } = await startRuntime({
      service: 'notes',
      metrics: { destination: emf, namespace: 'NotesApi', runtime: false },
    });
    expect(runtime.metrics.enabled).toBe(true);
    runtime.metrics.count('OrdersPlaced', 2, { Plan: 'pro' });
    runtime.metrics.record('PaymentLatency', 12.5, 'Milliseconds');
    expect(() => runtime.metrics.count('Orders Placed\n')).toThrow(InvalidArgumentError);
    expect(() => runtime.metrics.record('PaymentLatency', 1, 'ms' as never)).toThrow(/CloudWatch's units/);
    await runtime.metrics.flush();
    const documents: EmfDocument[] = emf.documents();
    expect(documents.map((d) => d._aws.CloudWatchMetrics[0]!.Namespace)).toEqual(['NotesApi', 'NotesApi']);
    expect(withDimensions(documents, { Service: 'notes', Plan: 'pro' })[0]!.OrdersPlaced).toBe(2);
    expect(documents.find((d) => d.PaymentLatency !== undefined)!.PaymentLatency).toEqual({
      Values: [12.5],
      Counts: [1],
      Max: 12.5,
      Min: 12.5,
      Count: 1,
      Sum: 12.5,
    });
  });

  it('write nothing when off, with runtime.metrics still checking its arguments', async () => {
    const emf = captureEmf();
    const { runtime } = await startRuntime({
      app: (_req, res) => res.end(),
      metrics: { enabled: false, destination: emf },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    runtime.metrics.count('OrdersPlaced');
    expect(runtime.metrics.enabled).toBe(false);
    expect(() => runtime.metrics.record('x', 1, 'Parsecs' as never)).toThrow(InvalidArgumentError);
    await runtime.metrics.flush();
    await runtime.shutdown('test');
    expect(emf.lines).toEqual([]);
  });
});
