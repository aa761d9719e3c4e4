import { type Link, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { useKitEncoder } from '../../../src/tracing/otel/exporter.js';
import { encodeTraceRequest } from '../../../src/tracing/otel/span-encoder.js';
import { decodeTraceRequest } from '../../support/otlp/proto.js';

/** Decoded, with bytes as arrays and 64-bit integers as strings, so two decodings compare. */
function decoded(bytes: Uint8Array): unknown {
  return JSON.parse(
    JSON.stringify(decodeTraceRequest(bytes), (_key, value: unknown) =>
      typeof value === 'bigint'
        ? String(value)
        : value instanceof Uint8Array
          ? [...value]
          : (value as { type?: unknown })?.type === 'Buffer'
            ? (value as { data: number[] }).data
            : value,
    ),
  );
}

function spans(): ReadableSpan[] {
  const ended: ReadableSpan[] = [];
  const collect: SpanProcessor = {
    onStart() {},
    onEnd: (span) => ended.push(span),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'notes-api', 'cloud.region': 'eu-west-1', pid: 42 }),
    spanProcessors: [collect],
  });
  const kit = provider.getTracer('apprunner-kit', '0.1.0');
  const app = provider.getTracer('app');
  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '5f84c7a1b2c3d4e5f60718293a4b5c6d',
    spanId: '0123456789abcdef',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=value,other=1'),
  });
  const server = kit.startSpan(
    'GET /notes/:id',
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'GET',
        'url.path': '/notes/7',
        'server.port': 3000,
        'user_agent.original': `Mozilla/5.0 ${'x'.repeat(300)} é ✓ 😀`,
        'app.ratio': 0.25,
        'app.negative': -42,
        'app.big': 2 ** 40,
        'app.above-safe': 2 ** 53,
        'app.huge': 1e18,
        'app.very-negative': -(2 ** 60),
        'app.beyond-int64': 2 ** 64,
        'app.flag': false,
        'app.tags': ['a', 'b', 'ünï'],
        'app.numbers': [1, 2.5, -3],
        'app.bools': [true, false],
        'app.empty': [],
      },
      links: [
        {
          context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0, isRemote: true },
          attributes: { 'link.kind': 'follows' },
        },
      ],
    },
    remoteParent,
  );
  server.addEvent('cache miss', { 'cache.key': 'notes:7', absent: undefined, empty: null } as never);
  server.recordException(new Error('boom'));
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'it failed' });
  const child = app.startSpan('SELECT notes', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, server));
  child.setAttribute('db.statement', 'SELECT * FROM notes WHERE id = $1');
  child.end();
  server.end();
  for (let i = 0; i < 300; i++) {
    const span = app.startSpan(`internal ${i}`, { attributes: { i, even: i % 2 === 0 } });
    span.setStatus({ code: SpanStatusCode.OK });
    span.end();
  }
  return ended;
}

describe('encodeTraceRequest', () => {
  it('decodes to what the OpenTelemetry serializer encodes, for every kind of field', () => {
    const batch = spans();
    const reference = ProtobufTraceSerializer.serializeRequest(batch);
    expect(reference).toBeDefined();
    const ours = encodeTraceRequest(batch);
    expect(decoded(ours)).toEqual(decoded(reference!));
    // Two scopes, the remote parent's flags, the trace state, the long attribute: all there.
    const request = decoded(ours) as {
      resourceSpans: {
        scopeSpans: { scope: { name: string }; spans: { flags: number; traceState?: string }[] }[];
      }[];
    };
    const scopes = request.resourceSpans[0]!.scopeSpans;
    expect(scopes.map((s) => s.scope.name)).toEqual(['app', 'apprunner-kit']);
    const server = scopes[1]!.spans[0]!;
    expect(server.flags).toBe(0x301);
    expect(server.traceState).toBe('vendor=value,other=1');
  });

  it('encodes batch after batch without mixing them', () => {
    const batch = spans();
    const first = encodeTraceRequest(batch.slice(0, 10));
    const firstCopy = Buffer.from(first);
    encodeTraceRequest(batch);
    expect(Buffer.compare(Buffer.from(first), firstCopy)).toBe(0);
    expect(decoded(first)).toEqual(decoded(ProtobufTraceSerializer.serializeRequest(batch.slice(0, 10))!));
  });
});

/** Spans of one provider whose ids are well formed, with `links` on the first. */
function linkedSpans(links: Link[], count: number): ReadableSpan[] {
  const ended: ReadableSpan[] = [];
  const provider = new BasicTracerProvider({
    spanProcessors: [
      {
        onStart() {},
        onEnd: (span) => ended.push(span),
        forceFlush: async () => {},
        shutdown: async () => {},
      },
    ],
  });
  const tracer = provider.getTracer('app');
  tracer.startSpan('linked', { links }).end();
  for (let i = 1; i < count; i++) tracer.startSpan(`other ${i}`).end();
  return ended;
}

/** `span` with `fields` in place of its own (a span altered after it started). */
function altered(span: ReadableSpan, fields: Record<string, unknown>): ReadableSpan {
  return Object.create(span, Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, { value: v }])));
}

interface DecodedSpan {
  name: string;
  traceId?: number[];
  parentSpanId?: number[];
  links?: { traceId: number[]; spanId: number[] }[];
  droppedLinksCount?: number;
}

function decodedSpans(bytes: Uint8Array): DecodedSpan[] {
  const request = decoded(bytes) as { resourceSpans: { scopeSpans: { spans: DecodedSpan[] }[] }[] };
  return request.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
}

describe('encodeTraceRequest with ids that are not hex', () => {
  const good = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };

  it('leaves out a link to a trace id in X-Ray form or a short span id, counts it dropped, and keeps the batch', () => {
    // Arrange: as `trace.getTracer(…).startSpan(…, { links })` takes them from an app.
    const batch = linkedSpans(
      [
        { context: { ...good, traceId: '1-5f84c7a0-b2c3d4e5f60718293a4b5c6d' } },
        { context: good },
        { context: { ...good, spanId: '00f067aa' } },
        { context: { ...good, spanId: 'zz'.repeat(8) } },
      ],
      22,
    );

    // Act
    const spans = decodedSpans(encodeTraceRequest(batch));

    // Assert: every span decodes; the well-formed link alone is there.
    expect(spans).toHaveLength(22);
    const linked = spans.find((s) => s.name === 'linked')!;
    expect(linked.links?.map((l) => Buffer.from(l.traceId).toString('hex'))).toEqual([good.traceId]);
    expect(linked.droppedLinksCount).toBe(3);
  });

  it('adds the links it leaves out to those the span limits dropped', () => {
    const [span] = linkedSpans([{ context: { ...good, traceId: 'not hex' } }], 1);
    const spans = decodedSpans(encodeTraceRequest([altered(span!, { droppedLinksCount: 2 })]));
    expect(spans[0]!.links ?? []).toEqual([]);
    expect(spans[0]!.droppedLinksCount).toBe(3);
  });

  it('writes a span whose parent id is malformed as a root, and leaves out a span whose own id is', () => {
    const [first, second, third] = linkedSpans([], 3);
    const batch = [
      altered(first!, { parentSpanContext: { ...good, spanId: '1-5f84c7a0' } }),
      altered(second!, {
        spanContext: () => ({ ...third!.spanContext(), traceId: '1-5f84c7a0-b2c3d4e5f60718293a4b5c6d' }),
      }),
      third!,
    ];
    const spans = decodedSpans(encodeTraceRequest(batch));
    expect(spans.map((s) => s.name)).toEqual(['linked', 'other 2']);
    expect(spans[0]!.parentSpanId).toBeUndefined();
  });

  it('takes upper-case hex digits, as the OpenTelemetry API does: the same bytes', () => {
    const upper = { ...good, traceId: good.traceId.toUpperCase(), spanId: good.spanId.toUpperCase() };
    const spans = decodedSpans(encodeTraceRequest(linkedSpans([{ context: upper }], 1)));
    expect(spans[0]!.links?.map((l) => Buffer.from(l.spanId).toString('hex'))).toEqual([good.spanId]);
    expect(spans[0]!.droppedLinksCount).toBeUndefined();
  });
});

describe('useKitEncoder', () => {
  it('takes the place of the serializer of the HTTP/protobuf and gRPC exporters', () => {
    const batch = spans().slice(0, 5);
    for (const exporter of [new ProtoExporter({ url: 'http://127.0.0.1:9/v1/traces' }), new GrpcExporter()]) {
      expect(useKitEncoder(exporter)).toBe(true);
      const serializer = (
        exporter as unknown as { _delegate: { _serializer: typeof ProtobufTraceSerializer } }
      )._delegate._serializer;
      expect(Buffer.from(serializer.serializeRequest(batch)!)).toEqual(
        Buffer.from(encodeTraceRequest(batch)),
      );
      void exporter.shutdown();
    }
  });

  it('leaves an exporter of another shape alone', () => {
    const other: SpanExporter = { export: () => {}, shutdown: async () => {} };
    expect(useKitEncoder(other)).toBe(false);
    expect(useKitEncoder({ ...other, _delegate: {} } as SpanExporter)).toBe(false);
  });
});
