// The kit in a process that another telemetry agent traces: OpenTelemetry's zero-code agent (a
// NodeSDK preloaded with --require, test/fixtures/tracing/agent.cjs), which registers OpenTelemetry's
// global tracer provider, context manager and propagator before the app runs and reads the same
// OTEL_* variables that switch the kit's `auto` mode on.
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killApps, type RunningApp, startApp } from '../../support/app-process.js';
import { get } from '../../support/http.js';
import { type CollectedSpan, type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { type HeaderRecorder, startHeaderRecorder, xrayOf } from './support.js';

const fixtures = join(new URL('../../..', import.meta.url).pathname, 'test/fixtures/tracing');

let collector: OtlpCollector;
let downstream: HeaderRecorder;

beforeAll(async () => {
  collector = await startOtlpCollector({ grpc: false });
  downstream = await startHeaderRecorder();
});

afterEach(() => {
  killApps();
  collector.clear();
  downstream.received.clear();
});

afterAll(async () => {
  await collector.close();
  await downstream.close();
});

/** The app under the agent, both exporting (when they do) to the collector. */
function startUnderAgent(env: Record<string, string> = {}): Promise<RunningApp> {
  return startApp(join(fixtures, 'agent-app.mjs'), {
    NODE_OPTIONS: `--require ${join(fixtures, 'agent.cjs')}`,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_SERVICE_NAME: 'notes-api',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    DOWNSTREAM: downstream.url,
    ...env,
  });
}

const agentScope = '@opentelemetry/instrumentation-http';
const byScope = (spans: readonly CollectedSpan[], scope: string) =>
  spans.filter((span) => span.scope.name === scope);
const linesOf = (app: RunningApp, msg: string) => app.lines.filter((line) => line.msg === msg);

interface Answer {
  readonly traceId: string | null;
  readonly headers: Record<string, string>;
  readonly active: { traceId: string; spanId: string } | null;
}

describe('beside the OpenTelemetry agent', () => {
  it('auto: the kit traces nothing itself, and its lines and headers follow the agent’s spans', async () => {
    const app = await startUnderAgent();
    const hello: Answer = JSON.parse((await get(`${app.url}/hello`)).body);
    const out: Answer = JSON.parse((await get(`${app.url}/out`)).body);
    await app.waitForLine(() => linesOf(app, 'request completed').length === 2);

    // One line says so, and how to choose; the kit's OpenTelemetry backend never started.
    const [said, ...more] = app.lines.filter((line) =>
      String(line.msg).startsWith('tracing left to another SDK'),
    );
    const name = (said?.tracing as { otherTracerProvider?: string } | undefined)?.otherTracerProvider;
    expect(name).toMatch(/TracerProvider$/);
    expect(said?.msg).toBe(
      `tracing left to another SDK (${name}), registered as OpenTelemetry's global tracer provider: the kit traces nothing itself in auto mode, which would have traced through OpenTelemetry (OTEL_EXPORTER_OTLP_ENDPOINT is set), and its log lines carry the trace and span ids of the other SDK's spans; set tracing.mode (or TRACING_MODE) to "otel" or "xray" to trace with the kit as well, every request then traced twice, or to "off" to say this is meant`,
    );
    expect(said).toMatchObject({
      level: 'info',
      tracing: { mode: 'auto', backend: 'off', instead: 'otel' },
    });
    expect(more).toEqual([]);
    expect(app.lines.filter((line) => String(line.msg).startsWith('tracing through'))).toEqual([]);

    // The agent's server spans (and its node:http client span), and no span of the kit's.
    const spans = await collector.waitForSpans(3);
    await delay(200);
    const servers = byScope(collector.spans, agentScope).filter((span) => span.kind === 'server');
    expect(servers).toHaveLength(2);
    expect(collector.spans.filter((span) => span.scope.name === 'apprunner-kit')).toEqual([]);
    expect(spans.length).toBe(collector.spans.length);

    // Each request's lines carry the agent's trace id (X-Ray form) and span id: the span active there.
    for (const [answer, path] of [
      [hello, '/hello'],
      [out, '/out'],
    ] as const) {
      // Active in the handler: the agent's server span of the request.
      expect(servers.find((span) => span.spanId === answer.active?.spanId)?.traceId).toBe(
        answer.active?.traceId,
      );
      const traceId = xrayOf(answer.active!.traceId);
      expect(answer.traceId).toBe(traceId);
      const request = linesOf(app, 'request completed').find((line) => line.path === path);
      expect(request).toMatchObject({ traceId, spanId: answer.active!.spanId });
      const handler = linesOf(app, 'in handler').find((line) => line.requestId === request?.requestId);
      expect(handler).toMatchObject({ traceId, spanId: answer.active!.spanId });
      // The headers that carry the request on are the agent's: W3C, not the kit's X-Ray header.
      expect(answer.headers).toEqual({
        'x-request-id': request?.requestId,
        traceparent: `00-${answer.active!.traceId}-${answer.active!.spanId}-01`,
      });
    }

    // The calls made carry the request id still, the agent's traceparent (node:http, which it
    // instruments), and no header of the kit's own trace.
    const requestId = linesOf(app, 'request completed').find((line) => line.path === '/out')?.requestId;
    expect(downstream.received.get('/fetch')).toMatchObject({ 'x-request-id': requestId });
    expect(downstream.received.get('/http')).toMatchObject({ 'x-request-id': requestId });
    expect(downstream.received.get('/http')?.traceparent).toMatch(new RegExp(`^00-${out.active!.traceId}-`));
    for (const path of ['/fetch', '/http'])
      expect(downstream.received.get(path)?.['x-amzn-trace-id']).toBeUndefined();
  });

  it('auto: a request the agent does not record keeps the trace of its X-Ray header on its lines', async () => {
    const app = await startUnderAgent({ OTEL_TRACES_SAMPLER: 'always_off' });
    const root = '1-5759e988-bd862e3fe1be46a994272793';
    await get(`${app.url}/hello`, { headers: { 'x-amzn-trace-id': `Root=${root};Sampled=1` } });
    const [line] = await app
      .waitForLine(() => linesOf(app, 'request completed').length === 1)
      .then(() => linesOf(app, 'request completed'));
    // Not the id of the agent's unrecorded span, in a trace no one sees.
    expect(line).toMatchObject({ traceId: root });
    expect(line?.spanId).toBeUndefined();
  });

  it('off: the lines carry the agent’s ids, and its spans are exported at SIGTERM before the exit', async () => {
    // Spans wait in the agent's batch processor a minute: only a flush at the exit sends them. The
    // agent does not end its SDK on SIGTERM here: what reaches the collector is what the kit flushed.
    const app = await startUnderAgent({
      TRACING_MODE: 'off',
      OTEL_BSP_SCHEDULE_DELAY: '60000',
      AGENT_SIGTERM: 'off',
    });
    const answers: Answer[] = [];
    for (let i = 0; i < 3; i++) answers.push(JSON.parse((await get(`${app.url}/hello`)).body));
    await app.waitForLine(() => linesOf(app, 'request completed').length === 3);
    const handlerLines = linesOf(app, 'in handler');
    expect(handlerLines.map((line) => [line.traceId, line.spanId])).toEqual(
      answers.map((answer) => [xrayOf(answer.active!.traceId), answer.active!.spanId]),
    );
    expect(app.lines.filter((line) => String(line.msg).startsWith('tracing left'))).toEqual([]);
    expect(collector.spans).toEqual([]);

    app.signal('SIGTERM');
    expect((await app.exit()).code).toBe(0);
    const servers = byScope(collector.spans, agentScope);
    expect(servers.map((span) => span.spanId).sort()).toEqual(answers.map((a) => a.active!.spanId).sort());
  });

  it('otel: the kit traces as well, warns of it, and registers no global the agent holds', async () => {
    // OTEL_LOG_LEVEL gives the agent's diagnostic logger: a duplicate registration would show there.
    const app = await startUnderAgent({ TRACING_MODE: 'otel', OTEL_LOG_LEVEL: 'error' });
    const hello: Answer = JSON.parse((await get(`${app.url}/hello`)).body);
    const twice = app.lines.find((line) => String(line.msg).startsWith('TRACING_MODE is "otel"'));
    const name = (twice?.tracing as { otherTracerProvider?: string } | undefined)?.otherTracerProvider;
    expect(twice?.msg).toBe(
      `TRACING_MODE is "otel" and another SDK (${name}) is registered as OpenTelemetry's global tracer provider: every request is traced twice, by the kit through OpenTelemetry and by the other SDK (in two traces when no trace header comes in), and the kit's log lines carry the kit's trace ids; set TRACING_MODE to "auto" or "off" to leave tracing to the other SDK`,
    );
    expect(twice).toMatchObject({ level: 'warn', tracing: { mode: 'otel', backend: 'otel' } });
    expect(
      app.lines.find((line) => (line.tracing as { notRegistered?: unknown } | undefined)?.notRegistered),
    ).toMatchObject({ level: 'warn', tracing: { notRegistered: ['trace', 'context', 'propagation'] } });
    const spans = await collector.waitForSpans(2);
    expect(byScope(spans, 'apprunner-kit').map((span) => span.kind)).toEqual(['server']);
    expect(byScope(spans, agentScope).map((span) => span.kind)).toEqual(['server']);
    expect(hello.traceId).toBe(xrayOf(byScope(spans, 'apprunner-kit')[0]!.traceId));
    app.signal('SIGTERM');
    await app.exit();
    expect(app.stderr()).not.toContain('Attempted duplicate registration');
  });
});
