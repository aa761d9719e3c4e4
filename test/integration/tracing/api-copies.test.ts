// Tracers of another loaded copy of @opentelemetry/api: its CommonJS build, which instrumentations
// require, beside the ESM build the kit imports here (two module instances on api 1.10, one on 1.9).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as OtelApi from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, get } from '../../support/http.js';
import { type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';
import { otlpEnv } from './support.js';

const require = createRequire(import.meta.url);

let collector: OtlpCollector;

beforeAll(async () => {
  collector = await startOtlpCollector({ grpc: false });
});

afterEach(async () => {
  await stopRuntimes();
  collector.clear();
});

afterAll(async () => {
  await collector.close();
});

describe('another copy of @opentelemetry/api beside the kit', () => {
  it("a tracer taken from its CommonJS build before the kit started records in the request's trace", async () => {
    // What an instrumentation's constructor does (`InstrumentationBase`, `@fastify/otel`), before bootstrap.
    const commonJs = require('@opentelemetry/api') as typeof OtelApi;
    const early = commonJs.trace.getTracer('an-instrumentation');
    const { runtime } = await startRuntime({
      tracing: { mode: 'otel' },
      env: otlpEnv(collector, 'http/json'),
      app: (_req, res) => {
        early.startSpan('instrumented work').end();
        res.end('ok');
      },
    });

    expect((await get(`${baseUrl(runtime.server!)}/work`)).status).toBe(200);
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(2);

    const server = spans.find((span) => span.kind === 'server');
    expect(spans.find((span) => span.name === 'instrumented work')).toMatchObject({
      scope: { name: 'an-instrumentation' },
      traceId: server?.traceId,
      parentSpanId: server?.spanId,
    });
  });

  it('a tracer taken from it after a runtime shut down records in the next runtime, not the one shut down', async () => {
    const commonJs = require('@opentelemetry/api') as typeof OtelApi;
    const env = otlpEnv(collector, 'http/json');
    await startRuntime({ tracing: { mode: 'otel' }, env });
    await stopRuntimes();
    const between = commonJs.trace.getTracer('an-instrumentation');
    const { runtime } = await startRuntime({
      tracing: { mode: 'otel' },
      env,
      app: (_req, res) => {
        between.startSpan('instrumented work').end();
        res.end('ok');
      },
    });

    expect((await get(`${baseUrl(runtime.server!)}/work`)).status).toBe(200);
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(2);

    expect(spans.map((span) => span.name).sort()).toEqual(['GET', 'instrumented work']);
  });

  it('one whose version does not follow the registered provider is named in a warning', async () => {
    const path = join(process.cwd(), 'node_modules/newer-sdk/node_modules/@opentelemetry/api');
    const file = join(path, 'build/src/index.js');
    // An api whose version refuses the registering one's keeps answering with its own provider.
    const ownProvider = {};
    require.cache[file] = { exports: { trace: { getTracerProvider: () => ownProvider } } } as NodeJS.Module;
    try {
      const { logs } = await startRuntime({
        tracing: { mode: 'otel' },
        env: otlpEnv(collector, 'http/json'),
      });

      const warning = logs.lines.find(
        (line) => (line.tracing as { otherApiCopies?: unknown } | undefined)?.otherApiCopies,
      );
      expect(warning).toMatchObject({ level: 'warn', tracing: { otherApiCopies: [path] } });
      expect(warning?.msg).toContain('spans of the instrumentations and code that use it are not recorded');
    } finally {
      delete require.cache[file];
    }
  });
});
