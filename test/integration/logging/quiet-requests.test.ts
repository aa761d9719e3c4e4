import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NodeRequestListener } from '../../../src/index.js';
import { getRequestContext } from '../../../src/index.js';
import { captureEmf, sumOf } from '../../support/emf.js';
import { baseUrl, get } from '../../support/http.js';
import { type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { stopRuntimes } from '../../support/runtime.js';
import { startTraced } from '../tracing/support.js';

let collector: OtlpCollector;

beforeAll(async () => {
  collector = await startOtlpCollector({ grpc: false });
});

afterEach(async () => {
  await stopRuntimes();
  collector.clear();
});

afterAll(() => collector.close());

/** Answers 500 on `/internal/broken`, else 200, with the request's id. */
const app: NodeRequestListener = (req, res) => {
  const { requestId } = getRequestContext()!;
  res.statusCode = req.url === '/internal/broken' ? 500 : 200;
  res.end(requestId);
};

describe('quietRequests', () => {
  it('write no request line (unless failed), make no span and count in no request metric; the context stays', async () => {
    const emf = captureEmf();
    const { runtime, logs } = await startTraced(collector, 'http/protobuf', () => app, {
      quietRequests: ['/metrics', '/internal/*'],
      metrics: { destination: emf, flushIntervalMs: 60_000 },
    });
    const url = baseUrl(runtime.server!);
    const quiet = await get(`${url}/metrics?x=1`, { headers: { 'x-request-id': 'quiet-1' } });
    await get(`${url}/internal/jobs`);
    const broken = await get(`${url}/internal/broken`);
    const loud = await get(`${url}/notes`);
    await runtime.tracer.flush();
    await runtime.metrics.flush();

    // The context and the request id round trip are kept.
    expect(quiet.body).toBe('quiet-1');
    expect(quiet.headers['x-request-id']).toBe('quiet-1');
    // A line for the loud request and for the failed quiet one only.
    const requestLines = logs.lines.filter((l) => l.method === 'GET' && typeof l.statusCode === 'number');
    expect(requestLines.map((l) => [l.path, l.statusCode])).toEqual([
      ['/internal/broken', 500],
      ['/notes', 200],
    ]);
    expect(requestLines[0]?.requestId).toBe(broken.headers['x-request-id']);
    // One span: the loud request's (the failed quiet one is logged, not traced).
    const spans = await collector.waitForSpans(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(collector.spans.map((s) => s.attributes['url.path'])).toEqual(['/notes']);
    expect(spans).toHaveLength(1);
    // One request counted.
    expect(sumOf(emf.documents(), 'Requests')).toBe(1);
    expect(loud.status).toBe(200);
  });

  it('treat a request as not quiet when the function throws, and say so once', async () => {
    const { runtime, logs } = await startTraced(collector, 'http/protobuf', () => app, {
      quietRequests: () => {
        throw new Error('no idea');
      },
    });
    const url = baseUrl(runtime.server!);
    await get(`${url}/a`);
    await get(`${url}/b`);
    expect(logs.lines.filter((l) => l.msg === 'request completed').map((l) => l.path)).toEqual(['/a', '/b']);
    const warnings = logs.lines.filter((l) => String(l.msg).startsWith('quietRequests threw'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', err: { message: 'no idea' } });
  });

  it('are not sampled: nothing run in them records a span, and their calls say so to the callee', async () => {
    const seen: (string | undefined)[] = [];
    const downstream = createServer((req, res) => {
      seen.push(req.headers.traceparent as string | undefined);
      res.end();
    });
    await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
    try {
      const { runtime } = await startTraced(
        collector,
        'http/protobuf',
        (rt) => async (_req, res) => {
          await rt.tracer.span('work', async () => (await fetch(baseUrl(downstream))).text());
          res.end();
        },
        { quietRequests: ['/metrics'] },
      );
      const url = baseUrl(runtime.server!);
      await get(`${url}/metrics`, {
        headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      });
      await get(`${url}/notes`);
      await runtime.tracer.flush();
      await collector.waitForSpans(3); // the loud request's: server, span, fetch
      await runtime.tracer.flush();
      expect(collector.spans.map((s) => s.name).sort()).toEqual(['GET', 'GET', 'work']);
      expect(new Set(collector.spans.map((s) => s.traceId)).size).toBe(1);
      expect(seen[0]).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
      expect(seen[1]).toMatch(/-01$/);
    } finally {
      await new Promise((resolve) => downstream.close(resolve));
    }
  });
});
