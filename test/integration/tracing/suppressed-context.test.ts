// Another SDK's own uploads (Sentry 10 sends its envelopes so) run with tracing suppressed in
// OpenTelemetry's global context manager, which that SDK registered: the kit's instrumentation of
// fetch, node:http and the AWS SDK leaves them alone, in every mode, with the real OpenTelemetry API.
import type { IncomingHttpHeaders } from 'node:http';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { suppressTracing } from '@opentelemetry/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppRunnerRuntime } from '../../../src/index.js';
import { type AwsEndpoint, applyEnv, awsClientEnv, startAwsEndpoint } from '../../support/aws-endpoint.js';
import { baseUrl, get } from '../../support/http.js';
import { type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { startRuntime, stopRuntimes, type TestRuntime } from '../../support/runtime.js';
import { startXRayDaemon, type XRayDaemon } from '../../support/xray-daemon.js';
import { type HeaderRecorder, httpGet, secretsClient, startHeaderRecorder, startTraced } from './support.js';
import { startXray } from './xray-support.js';

let collector: OtlpCollector;
let daemon: XRayDaemon;
let aws: AwsEndpoint;
let restoreEnv: () => void;
let downstream: HeaderRecorder;

beforeAll(async () => {
  // What Sentry 10 (and any OpenTelemetry-based agent) does at its start.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  collector = await startOtlpCollector({ grpc: false });
  daemon = await startXRayDaemon();
  aws = await startAwsEndpoint();
  aws.putSecret('notes/db', 's3cr3t-value');
  restoreEnv = applyEnv(awsClientEnv(aws));
  downstream = await startHeaderRecorder();
});

afterEach(async () => {
  await stopRuntimes();
  collector.clear();
  daemon.clear();
  aws.resetCalls();
  downstream.received.clear();
});

afterAll(async () => {
  context.disable();
  restoreEnv();
  await collector.close();
  await daemon.close();
  await aws.close();
  await downstream.close();
});

const kitHeaders = ['x-request-id', 'traceparent', 'tracestate', 'x-amzn-trace-id'];
const kitHeadersOf = (headers: IncomingHttpHeaders | undefined) =>
  kitHeaders.filter((name) => headers?.[name] !== undefined);

/**
 * A request handler that makes a fetch, a node:http and an AWS SDK call as an SDK uploads (tracing
 * suppressed in the global context), then the same calls as the app makes them.
 */
const handler = (runtime: AppRunnerRuntime) => {
  const secrets = runtime.tracer.instrumentAwsClient(secretsClient(aws));
  const calls = async (kind: string) => {
    await (await fetch(`${downstream.url}/${kind}-fetch`)).text();
    await httpGet(`${downstream.url}/${kind}-http`);
    await secrets.send(new GetSecretValueCommand({ SecretId: 'notes/db' }));
  };
  return (_req: unknown, res: { end(body: string): void }) => {
    void (async () => {
      await context.with(suppressTracing(context.active()), () => calls('upload'));
      await calls('app');
      res.end('done');
    })();
  };
};

async function exercise({ runtime }: TestRuntime): Promise<void> {
  expect((await get(`${baseUrl(runtime.server!)}/`)).body).toBe('done');
  await runtime.tracer.flush();
}

/**
 * What the downstream server and the AWS endpoint received of the kit's headers: none on the
 * uploads, `app` on each call of the app's own (fetch, node:http, the AWS SDK).
 */
function expectHeaders(app: readonly string[]): void {
  const [upload, own] = aws.requests('GetSecretValue');
  expect({
    uploadFetch: kitHeadersOf(downstream.received.get('/upload-fetch')),
    uploadHttp: kitHeadersOf(downstream.received.get('/upload-http')),
    uploadAws: kitHeadersOf(upload?.headers),
    appFetch: kitHeadersOf(downstream.received.get('/app-fetch')),
    appHttp: kitHeadersOf(downstream.received.get('/app-http')),
    appAws: kitHeadersOf(own?.headers),
  }).toEqual({ uploadFetch: [], uploadHttp: [], uploadAws: [], appFetch: app, appHttp: app, appAws: app });
}

describe("calls made with tracing suppressed in OpenTelemetry's global context", () => {
  it('OpenTelemetry mode: no client span, no header of the kit', async () => {
    const started = await startTraced(collector, 'http/protobuf', handler);
    expect(started.runtime.tracer.mode).toBe('otel');
    await exercise(started);
    expectHeaders(['x-request-id', 'traceparent', 'x-amzn-trace-id']);
    const spans = await collector.waitForSpans(4);
    const clients = spans.filter((span) => span.kind === 'client');
    expect(clients.map((span) => String(span.attributes['url.full'] ?? span.name)).sort()).toEqual(
      [`${downstream.url}/app-fetch`, `${downstream.url}/app-http`, 'SecretsManager.GetSecretValue'].sort(),
    );
  });

  it('X-Ray SDK mode: no subsegment, no header of the kit', async () => {
    const started = await startXray(daemon, handler);
    expect(started.runtime.tracer.mode).toBe('xray');
    await exercise(started);
    expectHeaders(['x-request-id', 'traceparent', 'x-amzn-trace-id']);
    await daemon.waitFor((d) => d.segments.some((segment) => !segment.inProgress));
    const urls = daemon.subsegments.map((subsegment) => {
      const http = subsegment.document.http as { request?: { url?: string } } | undefined;
      return http?.request?.url ?? subsegment.name;
    });
    expect(urls.sort()).toEqual(
      [`${downstream.url}/app-fetch`, `${downstream.url}/app-http`, 'SecretsManager'].sort(),
    );
  });

  it('tracing off: no request id either', async () => {
    const started = await startRuntime({ app: (req, res) => handler(started.runtime)(req, res) });
    expect(started.runtime.tracer.mode).toBe('off');
    await exercise(started);
    // The AWS SDK call too: its node:http request carries the request id with tracing off.
    expectHeaders(['x-request-id']);
  });
});
