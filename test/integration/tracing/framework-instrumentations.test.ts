import { readFileSync } from 'node:fs';
import { context, trace } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, get } from '../../support/http.js';
import { type CollectedSpan, type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';
import { otlpEnv } from './support.js';

/** The version of an installed package, read from its package.json. */
function installedVersion(name: string): string {
  const file = new URL(`../../../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** `version` is within a caret range (`^1.9.0`); any other form of range is taken as fitting. */
function fitsPeerRange(version: string, range: string): boolean {
  const caret = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (caret === null) return true;
  const [major, minor, patch] = version.split('.').map((part) => Number.parseInt(part, 10));
  const [wantMajor, wantMinor, wantPatch] = caret.slice(1).map(Number);
  if (major !== wantMajor) return false;
  return minor! > wantMinor! || (minor === wantMinor && patch! >= wantPatch!);
}

// Fastify's official OpenTelemetry plugin, where it fits the OpenTelemetry line installed (its
// `@opentelemetry/api` peer range; `npm run test:otel-line` installs the 3.x line over the lockfile's).
// On the 3.x line it keeps a `@opentelemetry/core` 2.x of its own, which reads the metadata the kit's
// 3.x core writes: both name the context key alike (`Symbol.for`). Its tracer comes from the CommonJS
// build of api 1.10, taken in its constructor before the kit registers (through the ESM build here).
const fastifyOtel = await import('@fastify/otel').then(
  (module) => module.FastifyOtelInstrumentation,
  () => undefined,
);
const fastifyOtelFits =
  fastifyOtel !== undefined &&
  Object.entries(
    (
      JSON.parse(
        readFileSync(new URL('../../../node_modules/@fastify/otel/package.json', import.meta.url), 'utf8'),
      ) as {
        peerDependencies?: Record<string, string>;
      }
    ).peerDependencies ?? {},
  ).every(([name, range]) => fitsPeerRange(installedVersion(name), range));

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

function spansOfTrace(spans: readonly CollectedSpan[], traceId: string): CollectedSpan[] {
  return spans.filter((span) => span.traceId === traceId);
}

describe("framework instrumentations beside the kit's OpenTelemetry tracing", () => {
  it('find the HTTP RPC metadata @opentelemetry/instrumentation-http sets, with the request span', async () => {
    const { runtime } = await startRuntime({
      tracing: { mode: 'otel' },
      env: otlpEnv(collector, 'http/json'),
      app: (_req, res) => {
        const metadata = getRPCMetadata(context.active());
        res.end(
          JSON.stringify({
            type: metadata?.type,
            requestSpan: metadata !== undefined && metadata.span === trace.getActiveSpan(),
          }),
        );
      },
    });

    const response = await get(`${baseUrl(runtime.server!)}/notes/1`);

    expect(JSON.parse(response.body)).toEqual({ type: RPCType.HTTP, requestSpan: true });
  });

  it.runIf(fastifyOtelFits)(
    "@fastify/otel: one SERVER span per request, the kit's, with @fastify/otel's request span an INTERNAL child",
    async () => {
      const instrumentation = new fastifyOtel!();
      const app = Fastify();
      await app.register(instrumentation.plugin());
      app.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id }));
      app.get('/boom', async () => {
        throw new Error('boom');
      });
      const { runtime } = await startRuntime({
        app,
        tracing: { mode: 'otel' },
        env: otlpEnv(collector, 'http/json'),
      });
      const url = baseUrl(runtime.server!);

      expect((await get(`${url}/users/7`)).status).toBe(200);
      expect((await get(`${url}/boom`)).status).toBe(500);
      await runtime.tracer.flush();
      const spans = await collector.waitForSpans(4);

      const servers = spans.filter((span) => span.kind === 'server');
      expect(servers.map((span) => span.name).sort()).toEqual(['GET /boom', 'GET /users/:id']);
      for (const server of servers) {
        const ofTrace = spansOfTrace(spans, server.traceId);
        const request = ofTrace.find(
          (span) => span.scope.name === '@fastify/otel' && span.name === 'request',
        );
        expect(request, `@fastify/otel's request span of ${server.name}`).toMatchObject({
          kind: 'internal',
          parentSpanId: server.spanId,
        });
        expect(ofTrace.filter((span) => span.kind === 'server')).toHaveLength(1);
      }
      instrumentation.disable();
    },
  );
});
