import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cutSlot, type MutableRequestContext, uncountedSlot } from '../../../src/http/context.js';
import { type EmfGroup, emfLines } from '../../../src/metrics/emf-lines.js';
import { RequestMetrics } from '../../../src/metrics/request-metrics.js';
import { distributionOf, type EmfDocument, parseEmf, sumOf, withDimensions } from '../../support/emf.js';

const now = 1_000_000;

afterEach(() => {
  vi.restoreAllMocks();
});

function finish(
  metrics: RequestMetrics,
  request: { route?: string; method?: string; status?: number; latencyMs: number },
): void {
  const context = { route: request.route, startedAt: now - request.latencyMs } as MutableRequestContext;
  metrics.onFinish(
    context,
    { method: request.method ?? 'GET' } as IncomingMessage,
    { statusCode: request.status ?? 200 } as ServerResponse,
  );
}

function flush(metrics: RequestMetrics): EmfDocument[] {
  const groups: EmfGroup[] = [];
  metrics.collect(groups);
  return groups.flatMap((group) =>
    emfLines(group, { namespace: 'AppRunnerKit', timestamp: Date.now() }).map((line) => parseEmf(line)),
  );
}

describe('RequestMetrics', () => {
  it('aggregates 10,000 requests on two routes into exact counts and exact latency sums', () => {
    vi.spyOn(performance, 'now').mockReturnValue(now);
    const scope = { inFlight: 0 };
    const metrics = new RequestMetrics({ maxRoutes: 20, dimensions: { Service: 'notes' } }, scope);
    const expected = {
      '/items/:id': { sum: 0, min: Infinity, max: 0 },
      '/orders/:id': { sum: 0, min: Infinity, max: 0 },
    };
    for (let i = 0; i < 10_000; i++) {
      const route = i % 2 === 0 ? '/items/:id' : '/orders/:id';
      const latencyMs = (i % 997) + 1; // whole milliseconds: their float sums are exact
      const status = i % 10 === 0 ? 404 : i % 15 === 0 ? 503 : 200;
      finish(metrics, { route, status, latencyMs });
      const e = expected[route];
      e.sum += latencyMs;
      e.min = Math.min(e.min, latencyMs);
      e.max = Math.max(e.max, latencyMs);
    }
    const documents = flush(metrics);
    for (const route of ['/items/:id', '/orders/:id'] as const) {
      const ofRoute = withDimensions(documents, { Service: 'notes', Route: route, Method: 'GET' });
      expect(sumOf(ofRoute, 'Requests')).toBe(5_000);
      const latency = distributionOf(ofRoute, 'RequestLatency');
      expect(latency).toMatchObject({ count: 5_000, min: expected[route].min, max: expected[route].max });
      expect(latency.sum).toBe(expected[route].sum);
    }
    const items = withDimensions(documents, { Route: '/items/:id' });
    const orders = withDimensions(documents, { Route: '/orders/:id' });
    expect(sumOf(items, '4xxStatusResponses')).toBe(1_000); // every even i divisible by 10
    expect(sumOf(orders, '4xxStatusResponses')).toBe(0);
    expect(sumOf(items, '5xxStatusResponses')).toBe(0);
    expect(sumOf(orders, '5xxStatusResponses')).toBe(333); // odd multiples of 15 below 10,000: 15, 45, …, 9975
    expect(flush(metrics)).toEqual([]); // the next interval starts empty
  });

  it('names requests without a route "(none)", other methods OTHER, and makes routes valid dimension values', () => {
    vi.spyOn(performance, 'now').mockReturnValue(now);
    const metrics = new RequestMetrics({ maxRoutes: 5, dimensions: {} }, { inFlight: 0 });
    finish(metrics, { latencyMs: 1 });
    finish(metrics, { route: '/files/:name', method: 'PROPFIND', latencyMs: 1 });
    finish(metrics, { route: '/café/:id', method: 'DELETE', latencyMs: 1 });
    const dimensions = flush(metrics).map((d) => [d.Route, d.Method]);
    expect(dimensions).toEqual([
      ['(none)', 'GET'],
      ['/files/:name', 'OTHER'],
      ['/caf?/:id', 'DELETE'],
    ]);
  });

  it('measures the in-flight peak from the count before each request finishes', () => {
    vi.spyOn(performance, 'now').mockReturnValue(now);
    const scope = { inFlight: 0 };
    const metrics = new RequestMetrics({ maxRoutes: 5, dimensions: {} }, scope);
    for (const remaining of [6, 2, 0]) {
      scope.inFlight = remaining; // the scope counts the finishing request out before its hooks run
      finish(metrics, { latencyMs: 1 });
    }
    expect(metrics.takePeak()).toBe(7);
    scope.inFlight = 2;
    expect(metrics.takePeak()).toBe(2); // those in flight now, in an interval with no finish
  });

  it('counts a response the server cut short among the 5xx, whatever status went out first', () => {
    vi.spyOn(performance, 'now').mockReturnValue(now);
    const metrics = new RequestMetrics({ maxRoutes: 5, dimensions: {} }, { inFlight: 0 });
    const context = { route: '/stream', startedAt: now - 1, [cutSlot]: true } as MutableRequestContext;
    metrics.onFinish(context, { method: 'GET' } as IncomingMessage, { statusCode: 200 } as ServerResponse);
    expect(sumOf(withDimensions(flush(metrics), { Route: '/stream' }), '5xxStatusResponses')).toBe(1);
  });

  it('leaves a logged health request, never counted in flight, out of the peak', () => {
    vi.spyOn(performance, 'now').mockReturnValue(now);
    const metrics = new RequestMetrics({ maxRoutes: 5, dimensions: {} }, { inFlight: 0 });
    const context = { startedAt: now - 1, [uncountedSlot]: true } as MutableRequestContext;
    metrics.onFinish(context, { method: 'GET' } as IncomingMessage, { statusCode: 200 } as ServerResponse);
    expect(metrics.takePeak()).toBe(0);
  });
});
