import { gzipSync } from 'node:zlib';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyEnv } from '../support/env.js';
import {
  absentCollectorUrl,
  type CollectedSpan,
  encodeTraceRequest,
  type OtlpCollector,
  startOtlpCollector,
} from '../support/otlp-collector.js';

/** ExportResultCode.FAILED of @opentelemetry/core (not a dependency of ours). */
const EXPORT_FAILED = 1;

let collector: OtlpCollector;

beforeAll(async () => {
  collector = await startOtlpCollector();
});

afterEach(() => {
  collector.clear();
});

afterAll(async () => {
  await collector.close();
});

/** Records a server span with a client child through the real SDK, and returns them finished. */
function recordSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'kit-test', 'deployment.environment': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('kit-tracer', '1.2.3');
  const parent = tracer.startSpan('GET /users', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'http.response.status_code': 500, ratio: 0.5, ok: false },
  });
  const child = tracer.startSpan(
    'SELECT users',
    { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', tags: ['a', 'b'] } },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
  child.addEvent('rows', { count: 3 });
  child.end();
  parent.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  parent.end();
  return memory.getFinishedSpans();
}

function exportWith(exporter: SpanExporter, spans: ReadableSpan[]): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

function withoutTransport(spans: readonly CollectedSpan[]): Omit<CollectedSpan, 'transport'>[] {
  return spans.map(({ transport: _transport, ...rest }) => rest);
}

describe('receiving spans from the real OTel exporters', () => {
  it('OTLP/HTTP JSON: collects spans in the normalised shape', async () => {
    const spans = recordSpans();
    const exporter = new HttpJsonExporter({ url: collector.tracesUrl });
    expect((await exportWith(exporter, spans)).code).toBe(0);
    await exporter.shutdown();
    const collected = await collector.waitForSpans(2, 2_000);
    const child = collected.find((s) => s.name === 'SELECT users');
    const parent = collected.find((s) => s.name === 'GET /users');
    expect(parent).toMatchObject({
      traceId: spans[1]?.spanContext().traceId,
      spanId: spans[1]?.spanContext().spanId,
      parentSpanId: undefined,
      kind: 'server',
      attributes: { 'http.request.method': 'GET', 'http.response.status_code': 500, ratio: 0.5, ok: false },
      status: { code: 'error', message: 'boom' },
      resource: { 'service.name': 'kit-test', 'deployment.environment': 'test' },
      scope: { name: 'kit-tracer', version: '1.2.3' },
      transport: 'http/json',
    });
    expect(parent?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(child).toMatchObject({
      traceId: parent?.traceId,
      parentSpanId: parent?.spanId,
      kind: 'client',
      attributes: { 'db.system': 'postgresql', tags: ['a', 'b'] },
      events: [expect.objectContaining({ name: 'rows', attributes: { count: 3 } })],
      status: { code: 'unset', message: undefined },
    });
    expect(child?.endTimeUnixNano).toBeGreaterThanOrEqual(child?.startTimeUnixNano ?? 0n);
    expect(collector.requests).toEqual([
      expect.objectContaining({
        transport: 'http/json',
        contentType: 'application/json',
        spanCount: 2,
        outcome: 'collected',
      }),
    ]);
  });

  it('OTLP/HTTP protobuf and OTLP/gRPC yield the same spans as JSON', async () => {
    const spans = recordSpans();
    const exporters = [
      new HttpJsonExporter({ url: collector.tracesUrl }),
      new HttpProtoExporter({ url: collector.tracesUrl }),
      new GrpcExporter({ url: collector.grpcUrl }),
    ];
    for (const exporter of exporters) {
      expect(await exportWith(exporter, spans)).toMatchObject({ code: 0 });
      await exporter.shutdown();
    }
    const collected = await collector.waitForSpans(6, 5_000);
    const byTransport = (transport: CollectedSpan['transport']) =>
      collected.filter((s) => s.transport === transport);
    expect(byTransport('http/json')).toHaveLength(2);
    expect(withoutTransport(byTransport('http/protobuf'))).toEqual(
      withoutTransport(byTransport('http/json')),
    );
    expect(withoutTransport(byTransport('grpc'))).toEqual(withoutTransport(byTransport('http/json')));
    expect(collector.requests.map((r) => [r.transport, r.contentType])).toEqual([
      ['http/json', 'application/json'],
      ['http/protobuf', 'application/x-protobuf'],
      ['grpc', undefined],
    ]);
  });

  it('decodes gzip-compressed exports', async () => {
    // The exporters read their compression from the env at construction, as users configure it.
    const restore = applyEnv({ OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzip' });
    const exporter = new HttpProtoExporter({ url: collector.tracesUrl });
    restore();
    expect((await exportWith(exporter, recordSpans())).code).toBe(0);
    await exporter.shutdown();
    await collector.waitForSpans(2, 2_000);
    expect(collector.requests[0]?.contentEncoding).toBe('gzip');
  });

  it('rejects bodies that are not OTLP, and content types it does not take', async () => {
    const garbage = await fetch(collector.tracesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from([0x0a, 0xff, 0xff]),
      signal: AbortSignal.timeout(2_000),
    });
    expect(garbage.status).toBe(400);
    const text = await fetch(collector.tracesUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
      signal: AbortSignal.timeout(2_000),
    });
    expect(text.status).toBe(415);
    const hand = encodeTraceRequest({
      resourceSpans: [
        {
          scopeSpans: [
            { spans: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'x', kind: 2 }] },
          ],
        },
      ],
    });
    const ok = await fetch(collector.tracesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: gzipSync(hand),
      signal: AbortSignal.timeout(2_000),
    });
    expect(ok.status).toBe(200);
    expect(collector.spans).toEqual([
      expect.objectContaining({
        traceId: '01'.repeat(16),
        spanId: '02'.repeat(8),
        name: 'x',
        kind: 'server',
      }),
    ]);
    expect(collector.requests.map((r) => r.outcome)).toEqual(['rejected', 'rejected', 'collected']);
  });
});

describe('faults', () => {
  it('HTTP 503 with Retry-After is retried by the exporter; 400 is not', async () => {
    collector.inject({ kind: 'error', httpStatus: 503, retryAfterSeconds: 0 });
    const exporter = new HttpJsonExporter({ url: collector.tracesUrl });
    expect((await exportWith(exporter, recordSpans())).code).toBe(0);
    expect(collector.requests.map((r) => r.outcome)).toEqual(['error', 'collected']);
    collector.clear();
    collector.inject({ kind: 'error', httpStatus: 400, message: 'bad spans' });
    const failed = await exportWith(exporter, recordSpans());
    expect(failed.code).toBe(EXPORT_FAILED);
    expect(collector.requests.map((r) => r.outcome)).toEqual(['error']);
    expect(collector.spans).toEqual([]);
    await exporter.shutdown();
  });

  it('a gRPC error status fails the export (this exporter does not retry UNAVAILABLE); the next one succeeds', async () => {
    collector.inject({ kind: 'error', grpcCode: 14, message: 'collector restarting' });
    collector.inject({ kind: 'error', grpcCode: 3, message: 'bad spans' });
    const exporter = new GrpcExporter({ url: collector.grpcUrl });
    const unavailable = await exportWith(exporter, recordSpans());
    expect(unavailable.code).toBe(EXPORT_FAILED);
    expect(unavailable.error).toMatchObject({ code: 14, details: 'collector restarting' });
    const invalid = await exportWith(exporter, recordSpans());
    expect(invalid.error).toMatchObject({ code: 3, details: 'bad spans' });
    expect((await exportWith(exporter, recordSpans())).code).toBe(0);
    expect(collector.requests.map((r) => r.outcome)).toEqual(['error', 'error', 'collected']);
    expect(collector.spans).toHaveLength(2);
    await exporter.shutdown();
  });

  it('a hung collector is bounded by the exporter timeout', async () => {
    collector.inject({ kind: 'hang', times: 2 });
    const http = new HttpProtoExporter({ url: collector.tracesUrl, timeoutMillis: 300 });
    const grpc = new GrpcExporter({ url: collector.grpcUrl, timeoutMillis: 300 });
    const started = performance.now();
    const [viaHttp, viaGrpc] = await Promise.all([
      exportWith(http, recordSpans()),
      exportWith(grpc, recordSpans()),
    ]);
    expect(viaHttp.code).toBe(EXPORT_FAILED);
    expect(viaGrpc.code).toBe(EXPORT_FAILED);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(collector.requests.map((r) => r.outcome)).toEqual(['hang', 'hang']);
    await Promise.all([http.shutdown(), grpc.shutdown()]);
  });

  it('an absent collector fails the export with a refused connection', async () => {
    const url = await absentCollectorUrl();
    const http = new HttpJsonExporter({ url: `${url}/v1/traces`, timeoutMillis: 1_000 });
    const grpc = new GrpcExporter({ url, timeoutMillis: 1_000 });
    const [viaHttp, viaGrpc] = await Promise.all([
      exportWith(http, recordSpans()),
      exportWith(grpc, recordSpans()),
    ]);
    expect(viaHttp.code).toBe(EXPORT_FAILED);
    expect(viaGrpc.code).toBe(EXPORT_FAILED);
    await Promise.all([http.shutdown(), grpc.shutdown()]);
  });

  it('serves only the receivers asked for', async () => {
    const grpcOnly = await startOtlpCollector({ http: false });
    try {
      expect(grpcOnly.httpUrl).toBe('');
      expect(grpcOnly.grpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await grpcOnly.close();
    }
  });
});
