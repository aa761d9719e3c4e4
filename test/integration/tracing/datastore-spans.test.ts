import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killApps, type RunningApp, startApp } from '../../support/app-process.js';
import { get } from '../../support/http.js';
import { type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { requirePostgres, requireRedis } from '../../support/services/index.js';

const postgres = requirePostgres();
const redis = requireRedis();

const fixtures = join(new URL('../../..', import.meta.url).pathname, 'test/fixtures/tracing');
const esmApp = join(fixtures, 'datastore-app.mjs');
const cjsApp = join(fixtures, 'datastore-app.cjs');

let collector: OtlpCollector;

beforeAll(async () => {
  collector = await startOtlpCollector({ grpc: false });
});

afterEach(() => {
  killApps();
  collector.clear();
});

afterAll(async () => {
  await collector?.close();
});

interface AppOptions {
  /** NODE_OPTIONS: how the preload is loaded, if it is. */
  readonly preload?: string;
  /** OpenTelemetry to the collector (default), the X-Ray SDK (to a port nothing reads), or off. */
  readonly tracing?: 'otel' | 'xray' | 'off';
}

const tracingEnv = (tracing: AppOptions['tracing']): Record<string, string> =>
  tracing === 'off'
    ? {}
    : tracing === 'xray'
      ? { AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:9' }
      : { OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpUrl, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };

/** Starts the fixture `script` with its PostgreSQL and Redis, traced as `options` say. */
function startDatastoreApp(script: string, options: AppOptions = {}): Promise<RunningApp> {
  return startApp(script, {
    PG_URL: postgres.url,
    REDIS_URL: redis.url,
    ...tracingEnv(options.tracing),
    ...(options.preload === undefined ? {} : { NODE_OPTIONS: options.preload }),
  });
}

const tracingLine = (line: Record<string, unknown>) =>
  typeof line.msg === 'string' && line.msg.startsWith('tracing through');
const hintLine = (line: Record<string, unknown>) =>
  typeof line.msg === 'string' && line.msg.includes('loaded without query spans');

describe.skipIf(!postgres.available || !redis.available)('datastore and cache spans', () => {
  it.each([
    ['an ESM app preloading with --import', esmApp, '--import apprunner-kit/register'],
    ['a CommonJS app preloading with --require', cjsApp, '--require apprunner-kit/register'],
    // The ESM build of the preload, the CommonJS build of the kit: one registry all the same.
    ['a CommonJS app preloading with --import', cjsApp, '--import apprunner-kit/register'],
  ])('%s exports its PostgreSQL and Redis spans under the server span', async (_name, script, preload) => {
    const app = await startDatastoreApp(script, { preload });
    expect((await app.waitForLine(tracingLine)).tracing).toMatchObject({
      instrumentations: ['pg', 'ioredis'],
    });

    const response = await get(`${app.url}/query`);
    expect(JSON.parse(response.body)).toEqual({ one: 1, pong: 'PONG' });
    app.signal('SIGTERM');
    expect((await app.exit()).code).toBe(0);

    const spans = await collector.waitForSpans(3);
    const names = spans.map((span) => `${span.scope.name} ${span.name}`).join(', ');
    const server = spans.find((span) => span.kind === 'server');
    const query = spans.find((span) => span.name.startsWith('pg.query'));
    const ping = spans.find((span) => span.name === 'ping');
    expect(server, names).toBeDefined();
    expect(query, names).toMatchObject({
      kind: 'client',
      scope: { name: '@opentelemetry/instrumentation-pg' },
    });
    expect(ping, names).toMatchObject({
      kind: 'client',
      scope: { name: '@opentelemetry/instrumentation-ioredis' },
    });
    // Every span is in the request's trace and descends from its server span (a pg query may sit
    // under the pool's connect span).
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    for (const span of spans) {
      let root = span;
      while (root.parentSpanId !== undefined && byId.has(root.parentSpanId))
        root = byId.get(root.parentSpanId)!;
      expect([span.traceId, root.spanId], span.name).toEqual([server!.traceId, server!.spanId]);
    }
    expect(ping!.parentSpanId).toBe(server!.spanId);
    expect(app.lines.some(hintLine)).toBe(false);
    // The import hook goes through module.registerHooks where it can: Node 26 deprecates
    // module.register (DEP0205), whose warning the kit would log at every start.
    expect([...app.lines.map((line) => JSON.stringify(line)), app.stderr()].join('\n')).not.toContain(
      'DEP0205',
    );
  });

  it('without the preload, one start-up line says how to get the spans', async () => {
    const app = await startDatastoreApp(esmApp);
    const hint = await app.waitForLine(hintLine);
    expect(hint).toMatchObject({
      level: 'info',
      tracing: { datastore: { uninstrumented: ['pg', 'ioredis'] } },
    });
    // Both instrumentation packages are installed here: nothing to `npm install`.
    expect(hint).not.toHaveProperty('tracing.datastore.install');
    expect(hint.msg).toContain('node --import apprunner-kit/register');
    expect(app.lines.filter(hintLine)).toHaveLength(1);
    expect((await app.waitForLine(tracingLine)).tracing).not.toHaveProperty('instrumentations');
  });

  it.each([['off'], ['xray']] as const)(
    'with tracing %s, the preloaded instrumentations leave the clients unpatched',
    async (tracing) => {
      const app = await startDatastoreApp(esmApp, { preload: '--import apprunner-kit/register', tracing });
      expect(JSON.parse((await get(`${app.url}/wrapped`)).body)).toEqual({ pg: false, ioredis: false });
      expect(JSON.parse((await get(`${app.url}/query`)).body)).toEqual({ one: 1, pong: 'PONG' });
      expect(app.lines.some(hintLine)).toBe(false);
    },
  );
});
