import { trace } from '@opentelemetry/api';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addRequestFields, getRequestContext, type SupportedApp } from '../../../src/index.js';
import { abandon, baseUrl, get } from '../../support/http.js';
import { type OtlpCollector, type OtlpTransport, startOtlpCollector } from '../../support/otlp-collector.js';
import { stopRuntimes } from '../../support/runtime.js';
import { callerHexRoot, callerParent, callerRoot, hexOf, startTraced, xrayOf } from './support.js';

let collector: OtlpCollector;

beforeAll(async () => {
  collector = await startOtlpCollector();
});

afterEach(async () => {
  await stopRuntimes();
  collector.clear();
});

afterAll(async () => {
  await collector.close();
});

const protocols: OtlpTransport[] = ['http/protobuf', 'http/json', 'grpc'];

describe.each(protocols)('server spans exported over OTLP %s', (protocol) => {
  it("keep the caller's trace id, with the caller's span as parent", async () => {
    const { runtime, logs } = await startTraced(collector, protocol, (rt) => (_req, res) => {
      rt.logger.info('inside the handler');
      res.end('ok');
    });
    const response = await get(`${baseUrl(runtime.server!)}/notes/7?token=secret`, {
      headers: {
        'x-amzn-trace-id': `Root=${callerRoot};Parent=${callerParent};Sampled=1`,
        'user-agent': 'kit-test/1',
      },
    });
    expect(response.status).toBe(200);
    await runtime.tracer.flush();
    const [span] = await collector.waitForSpans(1);

    expect(span).toMatchObject({
      traceId: callerHexRoot,
      parentSpanId: callerParent,
      name: 'GET',
      kind: 'server',
      transport: protocol,
      status: { code: 'unset' },
    });
    expect(span!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/notes/7',
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'server.port': (runtime.server!.address() as { port: number }).port,
      'http.response.status_code': 200,
      'network.protocol.version': '1.1',
      'user_agent.original': 'kit-test/1',
      'client.address': '127.0.0.1',
    });
    expect(JSON.stringify(span!.attributes)).not.toContain('secret');
    expect(span!.resource).toMatchObject({
      'service.name': 'notes-api',
      'service.version': '1.4.0',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.distro.name': 'apprunner-kit',
    });
    expect(span!.scope.name).toBe('apprunner-kit');
    expect(logs.find('inside the handler')[0]).toMatchObject({ traceId: callerRoot });
    expect(logs.find('request completed')[0]).toMatchObject({ traceId: callerRoot });
  });

  it('start a new X-Ray trace without a header, and the logs carry its id', async () => {
    const { runtime, logs } = await startTraced(collector, protocol, (rt) => (_req, res) => {
      res.end(rt.tracer.currentTraceId());
    });
    const before = Math.floor(Date.now() / 1000);
    const response = await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const [span] = await collector.waitForSpans(1);

    expect(response.body).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(span!.traceId).toBe(hexOf(response.body));
    expect(span!.parentSpanId).toBeUndefined();
    expect(Number.parseInt(span!.traceId.slice(0, 8), 16)).toBeGreaterThanOrEqual(before);
    expect(logs.find('request completed')[0]).toMatchObject({ traceId: xrayOf(span!.traceId) });
    expect(response.headers['x-amzn-trace-id']).toBeUndefined();
  });
});

describe('server spans', () => {
  it('are named by route when the adapter knows it, and mark 5xx as errors', async () => {
    const { runtime } = await startTraced(collector, 'http/json', () => (req, res) => {
      const route = req.url?.startsWith('/notes/') ? '/notes/:id' : undefined;
      // What a framework adapter does once it has routed the request.
      if (route !== undefined) (getRequestContext() as { route: string | undefined }).route = route;
      res.statusCode = req.url === '/boom' ? 503 : 200;
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/notes/42`);
    await get(`${baseUrl(runtime.server!)}/boom`, { method: 'DELETE' });
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(2);
    const routed = spans.find((s) => s.attributes['url.path'] === '/notes/42');
    const failed = spans.find((s) => s.attributes['url.path'] === '/boom');
    expect(routed).toMatchObject({ name: 'GET /notes/:id', attributes: { 'http.route': '/notes/:id' } });
    expect(failed).toMatchObject({
      name: 'DELETE',
      status: { code: 'error' },
      attributes: { 'error.type': '503', 'http.response.status_code': 503 },
    });
  });

  it("carry the route's error as their exception event (X-Ray's cause), the status as error.type", async () => {
    const app = express();
    app.get('/notes/:id', async () => {
      throw new TypeError('db down');
    });
    const { runtime } = await startTraced(collector, 'http/json', () => () => {}, {
      app: app as unknown as SupportedApp,
    });
    expect((await get(`${baseUrl(runtime.server!)}/notes/7`)).status).toBe(500);
    await runtime.tracer.flush();
    const [span] = await collector.waitForSpans(1);
    expect(span).toMatchObject({
      name: 'GET /notes/:id',
      status: { code: 'error' },
      attributes: { 'error.type': '500' },
    });
    expect(span!.events).toEqual([
      expect.objectContaining({
        name: 'exception',
        attributes: expect.objectContaining({
          'exception.type': 'TypeError',
          'exception.message': 'db down',
        }),
      }),
    ]);
  });

  it('have no response status for a client that left before any response, and are errors', async () => {
    let arrived!: () => void;
    const received = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { runtime } = await startTraced(collector, 'http/json', () => (_req, res) => {
      res.statusCode = 503; // set, never sent
      arrived();
    });
    await abandon(`${baseUrl(runtime.server!)}/report`, received);
    await expect.poll(() => runtime.tracer.flush().then(() => collector.spans.length)).toBe(1);

    const [span] = collector.spans;
    expect(span).toMatchObject({ status: { code: 'error' }, attributes: { 'error.type': 'aborted' } });
    expect(span!.attributes).not.toHaveProperty('http.response.status_code');
  });

  it('are exported by the shutdown, without a flush', async () => {
    const { runtime } = await startTraced(collector, 'grpc', () => (_req, res) => res.end());
    await get(`${baseUrl(runtime.server!)}/`);
    await get(`${baseUrl(runtime.server!)}/`);
    expect(collector.spans).toHaveLength(0);
    await runtime.shutdown('test');
    expect(collector.spans).toHaveLength(2);
  });
});

describe('request fields on the server span', () => {
  it('are copied as attributes with tracing.requestFields (null left out), and not by default', async () => {
    for (const requestFields of [true, false]) {
      const { runtime, logs } = await startTraced(
        collector,
        'http/json',
        () => (_req, res) => {
          addRequestFields({ tenant: 'acme', orders: 3, plan: null });
          res.end('ok');
        },
        { tracing: { requestFields } },
      );
      await get(`${baseUrl(runtime.server!)}/`);
      await runtime.tracer.flush();
      const [span] = await collector.waitForSpans(1);
      if (requestFields) expect(span!.attributes).toMatchObject({ tenant: 'acme', orders: 3 });
      else expect(span!.attributes.tenant).toBeUndefined();
      expect(span!.attributes).not.toHaveProperty('plan');
      expect(logs.find('request completed')[0]).toMatchObject({ tenant: 'acme', orders: 3, plan: null });
      await stopRuntimes();
      collector.clear();
    }
  });
  it('are masked as on log lines: a registered secret in a value, a number that is one', async () => {
    const { runtime, logs } = await startTraced(
      collector,
      'http/json',
      (rt) => {
        rt.redaction.addValue('tok-93fa21c7');
        rt.redaction.addValue('4111222233');
        return (_req, res) => {
          addRequestFields({ session: 'sid=tok-93fa21c7;x', account: 4111222233, orders: 3 });
          res.end('ok');
        };
      },
      { tracing: { requestFields: true } },
    );
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const [span] = await collector.waitForSpans(1);
    expect(span!.attributes).toMatchObject({ session: 'sid=[REDACTED];x', account: '[REDACTED]', orders: 3 });
    expect(logs.find('request completed')[0]).toMatchObject({
      session: 'sid=[REDACTED];x',
      account: '[REDACTED]',
    });
  });
});

describe('spanId on log lines', () => {
  it("names the current span of the request's trace, and no span of another trace", async () => {
    const { trace: otelTrace } = await import('@opentelemetry/api');
    const { runtime, logs } = await startTraced(collector, 'http/json', (rt) => (_req, res) => {
      rt.tracer.span('child work', (span) => rt.logger.info({ expected: span.spanId }, 'child line'));
      otelTrace.getTracer('app').startActiveSpan('detached job', { root: true }, (span) => {
        rt.logger.info('root span line');
        span.end();
      });
      res.end('ok');
    });
    await get(`${baseUrl(runtime.server!)}/`, {
      headers: { 'x-amzn-trace-id': `Root=${callerRoot};Parent=${callerParent};Sampled=1` },
    });
    const child = logs.find('child line')[0]!;
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).toBe(child.expected);
    expect(logs.find('root span line')[0]).toMatchObject({ traceId: callerRoot });
    expect(logs.find('root span line')[0]!.spanId).toBeUndefined();
  });
});

describe('the export', () => {
  it('runs outside the request that set it off: no x-request-id to the collector', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', (rt) => (_req, res) => {
      rt.tracer.span('inner work', () => {}); // ends in the request
      // An export set off inside the request, as the batch's timer is when a span of it ends first.
      void rt.tracer.flush();
      res.end('ok');
    });
    await get(`${baseUrl(runtime.server!)}/`, {
      headers: {
        'x-request-id': 'not-for-the-collector',
        'x-amzn-trace-id': `Root=${callerRoot};Parent=${callerParent};Sampled=1`,
      },
    });
    await collector.waitForSpans(1);
    expect(collector.httpHeaders.length).toBeGreaterThan(0);
    for (const headers of collector.httpHeaders) expect(headers['x-request-id']).toBeUndefined();
  });
});

describe('tracer.span continuing a message trace', () => {
  const producerParent = '1b2c3d4e5f607182';
  const otherTrace = '4bf92f3577b34da6a3ce929d0e0e4736';

  it('continues an X-Amzn-Trace-Id (an SQS AWSTraceHeader) as a consumer span, with a batch link', async () => {
    const { runtime } = await startTraced(collector, 'http/json', () => (_req, res) => res.end());
    const seen = runtime.tracer.span('notes-queue process', (span) => ({ traceId: span.traceId }), {
      kind: 'consumer',
      parent: `Root=${callerRoot};Parent=${producerParent};Sampled=1`,
      links: [`00-${otherTrace}-00f067aa0ba902b7-01`, 'not a trace header', `Root=${callerRoot}`],
    });
    await runtime.tracer.flush();
    const [span] = await collector.waitForSpans(1);

    expect(seen.traceId).toBe(callerRoot);
    expect(span).toMatchObject({
      name: 'notes-queue process',
      kind: 'consumer',
      traceId: callerHexRoot,
      parentSpanId: producerParent,
    });
    expect(span!.links.map((l) => [l.traceId, l.spanId])).toEqual([[otherTrace, '00f067aa0ba902b7']]);
  });

  it('takes a W3C traceparent too, and wins over the request the consumer runs in', async () => {
    const { runtime } = await startTraced(collector, 'http/json', (rt) => (_req, res) => {
      rt.tracer.span('handle message', () => undefined, { parent: `00-${otherTrace}-00f067aa0ba902b7-01` });
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`, {
      headers: { 'x-amzn-trace-id': `Root=${callerRoot};Sampled=1` },
    });
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(2);
    const message = spans.find((s) => s.name === 'handle message')!;
    expect(message).toMatchObject({ traceId: otherTrace, parentSpanId: '00f067aa0ba902b7' });
    expect(spans.find((s) => s.kind === 'server')).toMatchObject({ traceId: callerHexRoot });
  });

  it("keeps the caller's decision not to sample, and ignores a parent that is no trace header", async () => {
    const { runtime } = await startTraced(collector, 'http/json', () => (_req, res) => res.end());
    runtime.tracer.span('unsampled', () => undefined, {
      parent: `Root=${callerRoot};Parent=${producerParent};Sampled=0`,
    });
    const kept = runtime.tracer.span('garbage parent', (span) => span.traceId, { parent: 'Root=nonsense' });
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(1);
    expect(spans.map((s) => s.name)).toEqual(['garbage parent']);
    expect(spans[0]!.parentSpanId).toBeUndefined();
    expect(kept).not.toBe(callerRoot);
  });

  it('warns once of a parent and once of a link that is a trace id alone, naming it and the fix', async () => {
    const { runtime, logs } = await startTraced(collector, 'http/json', () => (_req, res) => res.end());
    const alone = '1-5f84c7a0-b2c3d4e5f60718293a4b5c6d';
    for (let i = 0; i < 3; i++) {
      runtime.tracer.span('batch', () => undefined, {
        parent: hexOf(alone),
        links: [alone, `00-${otherTrace}-00f067aa0ba902b7-01`, `Root=${alone};Parent=${producerParent}`],
      });
    }
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(3);

    // The X-Ray form in a header is taken, as the hex form OTLP carries.
    const links = [otherTrace, hexOf(alone)];
    expect(spans.map((s) => s.links.map((l) => l.traceId))).toEqual([links, links, links]);
    expect(logs.lines.filter((l) => l.level === 'warn')).toEqual([
      expect.objectContaining({
        tracing: { option: 'parent', value: hexOf(alone) },
        msg: expect.stringContaining('continues the current trace; pass the X-Amzn-Trace-Id value'),
      }),
      expect.objectContaining({
        tracing: { option: 'links', value: alone },
        msg: expect.stringContaining(`{ links: ["${alone}"] }): a trace id alone names no span`),
      }),
    ]);
  });
});

describe.each(['http/protobuf', 'grpc', 'http/json'] as const)(
  'a span linked to a trace id that is not hex, over OTLP %s',
  (protocol) => {
    it('is exported with the rest of its batch, without the link', async () => {
      // A link made through OpenTelemetry's API with the id currentTraceId() gives, in X-Ray form.
      const { runtime, logs } = await startTraced(collector, protocol, (rt) => (req, res) => {
        if (req.url === '/link') {
          const traceId = rt.tracer.currentTraceId()!;
          trace
            .getTracer('app')
            .startSpan('linked', { links: [{ context: { traceId, spanId: callerParent, traceFlags: 1 } }] })
            .end();
        }
        res.end('ok');
      });
      for (let i = 0; i < 5; i++) await get(`${baseUrl(runtime.server!)}/`);
      await get(`${baseUrl(runtime.server!)}/link`);
      await runtime.tracer.flush();

      const spans = await collector.waitForSpans(7);
      expect(spans.filter((s) => s.kind === 'server')).toHaveLength(6);
      expect(spans.find((s) => s.name === 'linked')!.links).toEqual([]);
      expect(collector.requests.map((r) => r.outcome)).not.toContain('rejected');
      expect(logs.lines.filter((l) => l.level === 'warn')).toEqual([]);
    });
  },
);

describe('the batch span processor and the span limits', () => {
  it('follow OTEL_BSP_* and the span limits of the kit’s env, on either SDK line', async () => {
    const { runtime } = await startTraced(
      collector,
      'http/json',
      (rt) => (_req, res) => {
        rt.tracer.setAttributes({ note: 'a long note that is cut' });
        res.end();
      },
      {
        env: {
          OTEL_BSP_SCHEDULE_DELAY: '20',
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2',
          OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '40',
          OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '6',
        },
      },
    );
    for (let i = 0; i < 5; i++) await get(`${baseUrl(runtime.server!)}/`);
    // No flush: the 20 ms delay exports them (the default waits 5 s, past waitForSpans' bound).
    const spans = await collector.waitForSpans(5, 2_000);

    expect(collector.requests.every((r) => r.spanCount <= 2)).toBe(true);
    expect(spans[0]!.attributes.note).toBe('a long');
  });

  it('warns of a value it cannot use, and uses the default', async () => {
    const { runtime, logs } = await startTraced(collector, 'http/json', () => (_req, res) => res.end(), {
      env: { OTEL_BSP_MAX_QUEUE_SIZE: 'lots', OTEL_BSP_SCHEDULE_DELAY: '20' },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await collector.waitForSpans(1, 2_000);
    expect(
      logs.find(
        'OTEL_BSP_MAX_QUEUE_SIZE="lots" cannot be used: 2048 is used instead (see the environment variables in docs/configuration.md)',
      ),
    ).toEqual([
      expect.objectContaining({
        level: 'warn',
        tracing: { variable: 'OTEL_BSP_MAX_QUEUE_SIZE', value: 'lots', used: '2048' },
      }),
    ]);
  });
});
