import http from 'node:http';
import { createServer, Socket as NetSocket, type Server, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, get } from '../../support/http.js';
import { type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';
import { callerHexRoot, callerParent, callerRoot, startTraced } from './support.js';

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

/** A TCP relay from 127.0.0.1:`port` to `target`: the collector's gRPC receiver on App Runner's port. */
async function relay(port: number, target: string): Promise<{ close(): Promise<void> }> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const upstream = new NetSocket();
    sockets.add(socket);
    sockets.add(upstream);
    upstream.connect(Number(targetPort), hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const header = { 'x-amzn-trace-id': `Root=${callerRoot};Parent=${callerParent};Sampled=1` };

describe('auto mode', () => {
  it('exports over gRPC to an endpoint on port 4317 when no protocol is set (App Runner)', async () => {
    const appRunnerPort = await relay(4317, collector.grpcUrl);
    try {
      const { runtime, logs } = await startRuntime({
        app: (_req, res) => res.end(),
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317' },
      });
      expect(runtime.tracer.mode).toBe('otel');
      await get(`${baseUrl(runtime.server!)}/`, { headers: header });
      await runtime.tracer.flush();
      const [span] = await collector.waitForSpans(1);
      expect(span).toMatchObject({ transport: 'grpc', traceId: callerHexRoot });
      expect(
        logs.find(
          'tracing through OpenTelemetry: grpc to http://127.0.0.1:4317, sampler parentbased_always_on',
        )[0],
      ).toMatchObject({
        tracing: {
          mode: 'auto',
          backend: 'otel',
          reason: 'OTEL_EXPORTER_OTLP_ENDPOINT is set',
          protocolFrom: 'port 4317',
        },
      });
      await runtime.shutdown('test');
    } finally {
      await appRunnerPort.close();
    }
  });

  it('traces through OpenTelemetry when OTEL_TRACES_EXPORTER is set, to the default HTTP endpoint', async () => {
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => res.end(),
      env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '200' },
    });
    expect(runtime.tracer.mode).toBe('otel');
    expect(
      logs.find(
        'tracing through OpenTelemetry: http/protobuf to http://localhost:4318/v1/traces, sampler parentbased_always_on',
      ),
    ).toHaveLength(1);
  });

  it('is off with nothing set: no OpenTelemetry, no patched node:http, the header trace id still logged', async () => {
    const request = http.request;
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => {
        const seen = runtime.tracer.span('work', (span) => ({
          traceId: span.traceId,
          current: runtime.tracer.currentTraceId(),
        }));
        runtime.tracer.setAttributes({ ignored: true });
        res.end(JSON.stringify({ ...seen, header: runtime.tracer.currentTraceHeader() ?? null }));
      },
    });
    expect(runtime.tracer.mode).toBe('off');
    expect(http.request).toBe(request);
    const client = { middlewareStack: { add: () => expect.unreachable() } };
    expect(runtime.tracer.instrumentAwsClient(client)).toBe(client);
    const response = await get(`${baseUrl(runtime.server!)}/`, {
      headers: { 'x-amzn-trace-id': `Root=${callerRoot};Sampled=?` },
    });
    expect(JSON.parse(response.body)).toEqual({ current: callerRoot, header: null });
    expect(response.headers['x-amzn-trace-id']).toBeUndefined();
    expect(logs.find('request completed')[0]).toMatchObject({ traceId: callerRoot });
    await runtime.tracer.flush();
    expect(logs.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('with only AWS_XRAY_DAEMON_ADDRESS: the X-Ray SDK (see xray-*.test.ts)', async () => {
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => res.end(),
      env: { AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000' },
      tracing: { xray: { sampling: 'local' } },
    });
    expect(runtime.tracer.mode).toBe('xray');
    expect(logs.lines.find((l) => (l.tracing as { backend?: string } | undefined)?.backend)).toMatchObject({
      msg: 'tracing through the X-Ray SDK: segments over UDP to 127.0.0.1:2000, local sampling',
      tracing: { reason: 'AWS_XRAY_DAEMON_ADDRESS is set' },
    });
    expect(logs.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });
});

describe('an AWS_XRAY_DAEMON_ADDRESS the kit cannot read', () => {
  it('with tracing off: the app starts, and one warning says it is left out', async () => {
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => res.end(),
      env: { AWS_XRAY_DAEMON_ADDRESS: 'udp:[fd00::1]:2000' },
      tracing: { mode: 'off' },
    });
    expect(runtime.tracer.mode).toBe('off');
    expect(logs.lines.filter((l) => l.level === 'warn')).toEqual([
      expect.objectContaining({
        msg: expect.stringMatching(/^AWS_XRAY_DAEMON_ADDRESS is not an address the kit reads .*left out/),
        tracing: { backend: 'off', AWS_XRAY_DAEMON_ADDRESS: 'udp:[fd00::1]:2000' },
      }),
    ]);
  });
});

describe('an OTEL_RESOURCE_ATTRIBUTES with pairs the kit cannot read', () => {
  it('with tracing off: the app starts, named by service.name, and one warning says they are left out', async () => {
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => res.end(),
      env: { OTEL_RESOURCE_ATTRIBUTES: 'team=50%,service.name=billing' },
    });
    expect(runtime.tracer.mode).toBe('off');
    expect(runtime.config.service).toBe('billing');
    expect(logs.lines.filter((l) => l.level === 'warn')).toEqual([
      expect.objectContaining({
        msg: expect.stringMatching(/^OTEL_RESOURCE_ATTRIBUTES has pairs .* left out/),
        tracing: { backend: 'off', OTEL_RESOURCE_ATTRIBUTES: ['team=50%'] },
      }),
    ]);
  });
});

describe('otel mode', () => {
  it('with OTEL_TRACES_EXPORTER=none: ids and headers flow, nothing is exported', async () => {
    const { runtime, logs } = await startTraced(
      collector,
      'http/json',
      (rt) => (_req, res) => res.end(rt.tracer.currentTraceHeader()),
      { tracing: { mode: 'otel' }, env: { OTEL_TRACES_EXPORTER: 'none' } },
    );
    const response = await get(`${baseUrl(runtime.server!)}/`, { headers: header });
    await runtime.tracer.flush();
    await delay(100);
    expect(response.body).toMatch(new RegExp(`^Root=${callerRoot};Parent=[0-9a-f]{16};Sampled=1$`));
    expect(collector.spans).toEqual([]);
    expect(
      logs.find('tracing through OpenTelemetry, exporting nothing (OTEL_TRACES_EXPORTER=none)'),
    ).toHaveLength(1);
  });

  it('puts the platform, region and OTEL_RESOURCE_ATTRIBUTES on the resource; service.name stays the kit’s', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', () => (_req, res) => res.end(), {
      env: {
        AWS_REGION: 'eu-west-1',
        ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc',
        OTEL_RESOURCE_ATTRIBUTES:
          'deployment.environment.name=prod,service.name=ignored,cloud.platform=aws_app_runner',
      },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const [span] = await collector.waitForSpans(1);
    expect(span!.resource).toMatchObject({
      'service.name': 'notes-api',
      'cloud.provider': 'aws',
      'cloud.region': 'eu-west-1',
      'cloud.platform': 'aws_app_runner',
      'deployment.environment.name': 'prod',
    });
  });

  it('does not read AWS_XRAY_TRACING_NAME, and one warning says what names the segments instead', async () => {
    const { runtime, logs } = await startTraced(collector, 'http/protobuf', () => (_req, res) => res.end(), {
      env: { AWS_XRAY_TRACING_NAME: 'notes-api-prod' },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const [span] = await collector.waitForSpans(1);
    expect(span!.resource).toMatchObject({ 'service.name': 'notes-api' });
    expect(logs.lines.filter((l) => l.level === 'warn')).toEqual([
      expect.objectContaining({
        msg: expect.stringMatching(
          /^AWS_XRAY_TRACING_NAME is the X-Ray SDK's and is not read where OpenTelemetry traces.*SERVICE_NAME or OTEL_SERVICE_NAME/,
        ),
        tracing: { backend: 'otel', AWS_XRAY_TRACING_NAME: 'notes-api-prod' },
      }),
    ]);
  });

  it('can leave fetch and node:http alone', async () => {
    const request = http.request;
    const { runtime } = await startTraced(collector, 'http/protobuf', () => (_req, res) => res.end(), {
      tracing: { fetch: false, httpClient: false },
    });
    expect(runtime.tracer.mode).toBe('otel');
    expect(http.request).toBe(request);
  });
});
