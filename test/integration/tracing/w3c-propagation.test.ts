import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { context, propagation } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, applyEnv, awsClientEnv, startAwsEndpoint } from '../../support/aws-endpoint.js';
import { baseUrl, get } from '../../support/http.js';
import { type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { startRuntime, stopRuntimes, type TestRuntime } from '../../support/runtime.js';
import { startXRayDaemon, type XRayDaemon } from '../../support/xray-daemon.js';
import { callerParent, callerRoot, httpGet, secretsClient, startTraced } from './support.js';
import { startXray } from './xray-support.js';

// A caller traced with OpenTelemetry's defaults: W3C headers only, a trace id X-Ray did not make.
const w3cHex = '4bf92f3577b34da6a3ce929d0e0e4736';
const w3cRoot = '1-4bf92f35-77b34da6a3ce929d0e0e4736';
const w3cParent = '00f067aa0ba902b7';
const w3cCaller = {
  traceparent: `00-${w3cHex}-${w3cParent}-01`,
  tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
  baggage: 'tenant=acme,plan=gold;tier=1',
};

let collector: OtlpCollector;
let daemon: XRayDaemon;
let aws: AwsEndpoint;
let restoreEnv: () => void;
let downstream: Server;
let downstreamUrl: string;
const received: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  collector = await startOtlpCollector({ grpc: false });
  daemon = await startXRayDaemon();
  aws = await startAwsEndpoint();
  aws.putSecret('notes/db', 's3cr3t-value');
  restoreEnv = applyEnv(awsClientEnv(aws));
  downstream = createServer((req, res) => {
    received.push(req.headers);
    res.end('ok');
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  downstreamUrl = baseUrl(downstream);
});

afterEach(async () => {
  await stopRuntimes();
  collector.clear();
  daemon.clear();
  aws.resetCalls();
  received.length = 0;
});

afterAll(async () => {
  restoreEnv();
  await collector.close();
  await daemon.close();
  await aws.close();
  await new Promise((resolve) => downstream.close(resolve));
});

/** The trace headers of one request the downstream server received. */
function traceHeadersOf(headers: IncomingHttpHeaders | undefined) {
  return {
    traceparent: headers?.traceparent,
    tracestate: headers?.tracestate,
    baggage: headers?.baggage,
    xray: headers?.['x-amzn-trace-id'],
  };
}

describe('W3C trace context and baggage, OpenTelemetry mode', () => {
  it('continues a traceparent, and carries it on with its tracestate and baggage to fetch and node:http', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', () => async (_req, res) => {
      await (await fetch(`${downstreamUrl}/fetch`)).text();
      await httpGet(`${downstreamUrl}/http`);
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`, { headers: w3cCaller });
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(3);
    const server = spans.find((s) => s.kind === 'server')!;
    const clients = spans.filter((s) => s.kind === 'client');
    expect(server).toMatchObject({ traceId: w3cHex, parentSpanId: w3cParent });
    expect(clients).toHaveLength(2);
    expect(received).toHaveLength(2);
    for (const [i, headers] of received.entries()) {
      const client = clients.find((s) => headers.traceparent?.includes(s.spanId));
      expect(client, `request ${i}`).toMatchObject({ traceId: w3cHex, parentSpanId: server.spanId });
      expect(traceHeadersOf(headers)).toEqual({
        traceparent: `00-${w3cHex}-${client!.spanId}-01`,
        tracestate: w3cCaller.tracestate,
        baggage: w3cCaller.baggage,
        xray: `Root=${w3cRoot};Parent=${client!.spanId};Sampled=1`,
      });
    }
  });

  it('carries baggage the app adds through @opentelemetry/api, and writes the same headers through propagation.inject', async () => {
    let injected: Record<string, string> = {};
    const { runtime } = await startTraced(collector, 'http/protobuf', () => async (_req, res) => {
      const baggage = (propagation.getBaggage(context.active()) ?? propagation.createBaggage()).setEntry(
        'order',
        { value: '42' },
      );
      await context.with(propagation.setBaggage(context.active(), baggage), async () => {
        injected = {};
        propagation.inject(context.active(), injected);
        await (await fetch(downstreamUrl)).text();
      });
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`, {
      headers: {
        'x-amzn-trace-id': `Root=${callerRoot};Parent=${callerParent};Sampled=1`,
        baggage: 'tenant=acme',
      },
    });
    const callerHex = callerRoot.slice(2).replace('-', '');
    expect(received[0]?.baggage).toBe('tenant=acme,order=42');
    expect(received[0]?.traceparent).toMatch(new RegExp(`^00-${callerHex}-[0-9a-f]{16}-01$`));
    expect(Object.keys(injected).sort()).toEqual(['baggage', 'traceparent', 'x-amzn-trace-id']);
    expect(injected.traceparent).toMatch(new RegExp(`^00-${callerHex}-[0-9a-f]{16}-01$`));
    expect(injected['x-amzn-trace-id']).toMatch(
      new RegExp(`^Root=${callerRoot};Parent=[0-9a-f]{16};Sampled=1$`),
    );
  });

  it('puts traceparent beside X-Amzn-Trace-Id on AWS SDK calls', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', (rt) => {
      const client = rt.tracer.instrumentAwsClient(secretsClient(aws));
      return async (_req, res) => {
        await client.send(new GetSecretValueCommand({ SecretId: 'notes/db' }));
        res.end();
      };
    });
    await get(`${baseUrl(runtime.server!)}/`, { headers: w3cCaller });
    await runtime.tracer.flush();
    const call = (await collector.waitForSpans(2)).find((s) => s.kind === 'client')!;
    const [attempt] = aws.requests('GetSecretValue');
    expect(traceHeadersOf(attempt?.headers)).toEqual({
      traceparent: `00-${w3cHex}-${call.spanId}-01`,
      tracestate: w3cCaller.tracestate,
      baggage: w3cCaller.baggage,
      xray: `Root=${w3cRoot};Parent=${call.spanId};Sampled=1`,
    });
  });

  it('with OTEL_PROPAGATORS=xray, neither reads nor writes the W3C headers', async () => {
    const { runtime } = await startTraced(
      collector,
      'http/protobuf',
      () => async (_req, res) => {
        await (await fetch(downstreamUrl)).text();
        res.end();
      },
      { env: { OTEL_PROPAGATORS: 'xray' } },
    );
    await get(`${baseUrl(runtime.server!)}/`, { headers: w3cCaller });
    await runtime.tracer.flush();
    const server = (await collector.waitForSpans(2)).find((s) => s.kind === 'server')!;
    expect(server.traceId).not.toBe(w3cHex);
    expect(server.parentSpanId).toBeUndefined();
    expect(received).toHaveLength(1);
    const headers = traceHeadersOf(received[0]);
    expect(headers).toMatchObject({ traceparent: undefined, tracestate: undefined, baggage: undefined });
    expect(headers.xray).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/);
  });

  it('warns of OTEL_PROPAGATORS names it does not support, and of xray left out; with tracing.propagators [], sends no trace header', async () => {
    const { runtime, logs } = await startTraced(
      collector,
      'http/protobuf',
      () => async (_req, res) => {
        await (await fetch(downstreamUrl)).text();
        res.end();
      },
      { env: { OTEL_PROPAGATORS: 'b3,tracecontext' } },
    );
    const warnings = logs.lines.filter((line) => String(line.msg).startsWith('OTEL_PROPAGATORS'));
    expect(warnings.map((line) => String(line.msg).slice(0, 40))).toEqual([
      'OTEL_PROPAGATORS names propagators the k',
      'OTEL_PROPAGATORS leaves out xray: X-Amzn',
    ]);
    expect(warnings[0]).toMatchObject({
      level: 'warn',
      tracing: { propagators: ['tracecontext'], ignored: ['b3'] },
    });
    await runtime.shutdown('next');
    const { runtime: none } = await startTraced(
      collector,
      'http/protobuf',
      () => async (_req, res) => {
        await (await fetch(downstreamUrl)).text();
        res.end();
      },
      { tracing: { propagators: [] } },
    );
    received.length = 0;
    await get(`${baseUrl(none.server!)}/`, { headers: w3cCaller });
    expect(received).toHaveLength(1);
    expect(traceHeadersOf(received[0])).toEqual({
      traceparent: undefined,
      tracestate: undefined,
      baggage: undefined,
      xray: undefined,
    });
  });
});

describe('W3C trace context and baggage, X-Ray SDK mode', () => {
  it('continues a traceparent in the segment, and carries it on with its tracestate and baggage', async () => {
    const { runtime } = await startXray(daemon, () => async (_req, res) => {
      await (await fetch(`${downstreamUrl}/fetch`)).text();
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`, { headers: w3cCaller });
    await daemon.waitFor((d) => d.segments.length === 1 && d.subsegments.length === 1);
    const [segment] = daemon.segments;
    const [subsegment] = daemon.subsegments;
    expect(segment).toMatchObject({ traceId: w3cRoot, parentId: w3cParent });
    expect(traceHeadersOf(received[0])).toEqual({
      traceparent: `00-${w3cHex}-${subsegment!.id}-01`,
      tracestate: w3cCaller.tracestate,
      baggage: w3cCaller.baggage,
      xray: `Root=${w3cRoot};Parent=${subsegment!.id};Sampled=1`,
    });
  });

  it('on node:http, when the X-Amzn-Trace-Id wins (xray last): its trace in traceparent, no tracestate of the other trace, the baggage', async () => {
    const { runtime } = await startXray(
      daemon,
      () => async (_req, res) => {
        await httpGet(`${downstreamUrl}/http`);
        res.end();
      },
      { env: { OTEL_PROPAGATORS: 'tracecontext,baggage,xray' } },
    );
    await get(`${baseUrl(runtime.server!)}/`, {
      headers: { ...w3cCaller, 'x-amzn-trace-id': `Root=${callerRoot};Parent=${callerParent};Sampled=1` },
    });
    await daemon.waitFor((d) => d.segments.length === 1 && d.subsegments.length === 1);
    const [subsegment] = daemon.subsegments;
    expect(daemon.segments[0]).toMatchObject({ traceId: callerRoot, parentId: callerParent });
    expect(received).toHaveLength(1);
    expect(traceHeadersOf(received[0])).toEqual({
      traceparent: `00-${callerRoot.slice(2).replace('-', '')}-${subsegment!.id}-01`,
      tracestate: undefined,
      baggage: w3cCaller.baggage,
      xray: `Root=${callerRoot};Parent=${subsegment!.id};Sampled=1`,
    });
  });
});

/**
 * The app of the currentHeaders tests: the headers in the request and in a child span within it;
 * then a traced call from the request to the downstream server, whose headers it received.
 */
const reportHeaders = (rt: TestRuntime['runtime']) => async (_req: IncomingMessage, res: ServerResponse) => {
  const child = rt.tracer.span('work', (span) => ({
    headers: rt.tracer.currentHeaders(),
    spanId: span.spanId,
  }));
  const request = rt.tracer.currentHeaders();
  await (await fetch(downstreamUrl)).text();
  res.end(JSON.stringify({ request, child }));
};

/** What a traced call sends but its parent span id: the part currentHeaders() must agree with. */
function withoutParent(headers: Record<string, unknown>) {
  const { traceparent, 'x-amzn-trace-id': xray, ...rest } = headers;
  return {
    traceparent: String(traceparent).replace(/-[0-9a-f]{16}-/, '-P-'),
    xray: String(xray).replace(/Parent=[0-9a-f]{16}/, 'Parent=P'),
    ...Object.fromEntries(
      ['x-request-id', 'tracestate', 'baggage'].filter((n) => rest[n] !== undefined).map((n) => [n, rest[n]]),
    ),
  };
}

interface ReportedHeaders {
  request: Record<string, string>;
  child: { headers: Record<string, string>; spanId: string };
}

describe('runtime.tracer.currentHeaders()', () => {
  it.each([
    ['OpenTelemetry', (app: typeof reportHeaders) => startTraced(collector, 'http/protobuf', app)],
    ['X-Ray SDK', (app: typeof reportHeaders) => startXray(daemon, app)],
  ])(
    '%s: the request id and the trace headers of the current span, as a call made there carries them',
    async (_mode, start) => {
      const { runtime } = await start(reportHeaders);
      const response = await get(`${baseUrl(runtime.server!)}/`, {
        headers: { ...w3cCaller, 'x-request-id': 'req-headers-1' },
      });
      const { request, child } = JSON.parse(response.body) as ReportedHeaders;
      expect(Object.keys(request).sort()).toEqual([
        'baggage',
        'traceparent',
        'tracestate',
        'x-amzn-trace-id',
        'x-request-id',
      ]);
      expect(request['x-request-id']).toBe('req-headers-1');
      expect(request.tracestate).toBe(w3cCaller.tracestate);
      expect(request.baggage?.split(',').sort()).toEqual(['plan=gold;tier=1', 'tenant=acme']);
      const requestSpan = /^00-4bf92f3577b34da6a3ce929d0e0e4736-([0-9a-f]{16})-01$/.exec(
        request.traceparent!,
      )?.[1];
      expect(requestSpan).toBeDefined();
      expect(requestSpan).not.toBe(w3cParent);
      expect(request['x-amzn-trace-id']).toBe(`Root=${w3cRoot};Parent=${requestSpan};Sampled=1`);
      // Within a child span, the child is the parent.
      expect(child.headers.traceparent).toBe(`00-${w3cHex}-${child.spanId}-01`);
      expect(child.headers['x-amzn-trace-id']).toBe(`Root=${w3cRoot};Parent=${child.spanId};Sampled=1`);
      expect(runtime.tracer.currentHeaders()).toEqual({});
      // What the kit's own traced call sent, but for the parent (its client span).
      expect(withoutParent(request)).toEqual(withoutParent(received[0] as Record<string, unknown>));
    },
  );

  it('in a quiet request, says "not sampled" as its calls do', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', reportHeaders, {
      quietRequests: ['/'],
    });
    const response = await get(`${baseUrl(runtime.server!)}/`, {
      headers: { ...w3cCaller, 'x-request-id': 'req-quiet-1' },
    });
    const { request } = JSON.parse(response.body) as ReportedHeaders;
    expect(request.traceparent).toMatch(new RegExp(`^00-${w3cHex}-[0-9a-f]{16}-00$`));
    expect(request['x-amzn-trace-id']).toMatch(new RegExp(`^Root=${w3cRoot};Parent=[0-9a-f]{16};Sampled=0$`));
    expect(withoutParent(request)).toEqual(withoutParent(received[0] as Record<string, unknown>));
  });

  it('with tracing off: the request id only, and nothing outside a request', async () => {
    let started: TestRuntime | undefined;
    started = await startRuntime({ app: (req, res) => reportHeaders(started!.runtime)(req, res) });
    const { runtime } = started;
    const response = await get(`${baseUrl(runtime.server!)}/`, {
      headers: { ...w3cCaller, 'x-request-id': 'req-headers-2' },
    });
    const { request, child } = JSON.parse(response.body) as ReportedHeaders;
    expect(request).toEqual({ 'x-request-id': 'req-headers-2' });
    expect(child.headers).toEqual({ 'x-request-id': 'req-headers-2' });
    expect(runtime.tracer.currentHeaders()).toEqual({});
    expect(received[0]?.['x-request-id']).toBe('req-headers-2');
  });

  it('with requestIdHeader false and tracing off: nothing', async () => {
    let started: TestRuntime | undefined;
    started = await startRuntime({
      logging: { requestIdHeader: false },
      app: (req, res) => reportHeaders(started!.runtime)(req, res),
    });
    const response = await get(`${baseUrl(started.runtime.server!)}/`, { headers: w3cCaller });
    expect((JSON.parse(response.body) as ReportedHeaders).request).toEqual({});
  });
});
