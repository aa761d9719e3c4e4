import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SupportedApp } from '../../../src/index.js';
import { abandon, baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';
import { startXRayDaemon, type XRayDaemon } from '../../support/xray-daemon.js';
import { callerParent, callerRoot } from './support.js';
import { expectWellFormed, sampleEverything, segmentFor, startXray } from './xray-support.js';

let daemon: XRayDaemon;
let downstream: Server;
const received: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  daemon = await startXRayDaemon();
  downstream = createServer((req, res) => {
    received.push(req.headers);
    res.end('downstream');
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  await stopRuntimes();
  daemon.clear();
  received.length = 0;
});

afterAll(async () => {
  await daemon.close();
  await new Promise((resolve) => downstream.close(resolve));
});

const statuses: Record<string, number> = { '/ok': 200, '/missing': 404, '/broken': 500, '/busy': 429 };

describe('a segment per request', () => {
  it('records the HTTP request and response, with X-Ray flags by status (404 error, 500 fault, 429 throttle)', async () => {
    const { runtime, logs } = await startXray(daemon, () => (req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      res.writeHead(statuses[path] ?? 200, { 'content-length': 2 });
      res.end('hi');
    });
    const url = baseUrl(runtime.server!);
    for (const path of Object.keys(statuses)) {
      await get(`${url}${path}?token=secret`, { headers: { 'user-agent': 'notes-test/1.0' } });
    }
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 4);

    const ok = segmentFor(daemon, '/ok');
    expect(ok).toMatchObject({ name: 'notes-api', parentId: undefined, inProgress: false });
    expect(ok.document).toMatchObject({
      http: {
        request: { method: 'GET', url: `${url}/ok`, client_ip: '127.0.0.1', user_agent: 'notes-test/1.0' },
        response: { status: 200, content_length: 2 },
      },
      service: { version: '1.4.0' },
      aws: { xray: { sdk: 'X-Ray for Node.js' } },
    });
    expect(ok.document.end_time).toBeGreaterThanOrEqual(ok.document.start_time as number);
    for (const flag of ['error', 'fault', 'throttle']) expect(ok.document[flag]).toBeUndefined();
    expect(segmentFor(daemon, '/missing').document).toMatchObject({ error: true });
    expect(segmentFor(daemon, '/missing').document.fault).toBeUndefined();
    expect(segmentFor(daemon, '/broken').document).toMatchObject({ fault: true });
    expect(segmentFor(daemon, '/busy').document).toMatchObject({ error: true, throttle: true });

    for (const path of Object.keys(statuses)) {
      const line = logs.lines.find((l) => l.path === path && typeof l.statusCode === 'number')!;
      expect(line.traceId).toBe(segmentFor(daemon, path).traceId);
    }
    expect(expectWellFormed(daemon)).toEqual([]);
  });

  it('takes the client address from X-Forwarded-For, and says so', async () => {
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end());
    await get(`${baseUrl(runtime.server!)}/fwd`, {
      headers: { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' },
    });
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    expect(daemon.segments[0]!.document.http).toMatchObject({
      request: { client_ip: '203.0.113.9', x_forwarded_for: true },
    });
  });

  it('none for the health endpoints', async () => {
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end());
    for (const path of ['/healthz', '/readyz']) {
      expect((await get(`${baseUrl(runtime.server!)}${path}`)).status).toBe(200);
    }
    await get(`${baseUrl(runtime.server!)}/after`);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    await delay(50);
    expect(daemon.segments.map((s) => s.document.http)).toEqual([
      expect.objectContaining({
        request: expect.objectContaining({ url: `${baseUrl(runtime.server!)}/after` }),
      }),
    ]);
  });

  it("records a route's error as the segment's cause, with the flags its status gives", async () => {
    const app = express();
    app.get('/throws', async () => {
      throw new Error('db down');
    });
    app.get('/missing', async () => {
      throw Object.assign(new Error('no note 7'), { status: 404 });
    });
    app.get('/no-prototype', async () => {
      throw Object.create(null); // String() of it throws
    });
    const { runtime } = await startRuntime({
      service: 'notes-api',
      app: app as unknown as SupportedApp,
      tracing: { mode: 'xray', xray: { sampling: 'local', samplingRules: sampleEverything } },
      env: { AWS_XRAY_DAEMON_ADDRESS: daemon.address },
    });
    for (const path of ['/throws', '/missing', '/no-prototype'])
      await get(`${baseUrl(runtime.server!)}${path}`);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 3);

    const causeOf = (path: string) =>
      (segmentFor(daemon, path).document.cause as { exceptions: { message: string }[] }).exceptions;
    expect(segmentFor(daemon, '/throws').document).toMatchObject({
      fault: true,
      http: { response: { status: 500 } },
    });
    expect(causeOf('/throws')).toEqual([expect.objectContaining({ message: 'db down', type: 'Error' })]);
    expect(segmentFor(daemon, '/missing').document).toMatchObject({
      error: true,
      http: { response: { status: 404 } },
    });
    expect(segmentFor(daemon, '/missing').document.fault).toBeUndefined();
    expect(causeOf('/missing')).toEqual([expect.objectContaining({ message: 'no note 7' })]);
    expect(segmentFor(daemon, '/no-prototype').document).toMatchObject({ fault: true });
    expect(causeOf('/no-prototype')).toEqual([expect.objectContaining({ message: '[object Object]' })]);
  });

  it('records no response status for a client that left before any response: a fault, and why', async () => {
    let arrived!: () => void;
    const received = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { runtime } = await startXray(daemon, () => (_req, res) => {
      res.statusCode = 404; // set, never sent
      arrived();
    });
    await abandon(`${baseUrl(runtime.server!)}/report`, received);
    await daemon.waitFor((d) => d.segments.length === 1);

    const { document } = segmentFor(daemon, '/report');
    expect(document.http).not.toHaveProperty('response');
    expect(document).toMatchObject({ fault: true });
    expect(document.error).toBeUndefined();
    expect(document.cause).toMatchObject({
      exceptions: [expect.objectContaining({ message: 'the connection closed before the response ended' })],
    });
  });

  it('records the status but no content_length of a response the client left half-sent', async () => {
    let began!: () => void;
    const sent = new Promise<void>((resolve) => {
      began = resolve;
    });
    const { runtime } = await startXray(daemon, () => (_req, res) => {
      res.writeHead(200, { 'content-length': 1_000_000 });
      res.write('x'.repeat(1_000), () => began()); // the rest never comes
    });
    await abandon(`${baseUrl(runtime.server!)}/download`, sent);
    await daemon.waitFor((d) => d.segments.length === 1);

    const { document } = segmentFor(daemon, '/download');
    expect(document.http).toMatchObject({ response: { status: 200 } });
    expect((document.http as { response: object }).response).not.toHaveProperty('content_length');
  });

  it('names segments by AWS_XRAY_TRACING_NAME over the service option, as the SDK over openSegment', async () => {
    // Arrange: an ECS task definition that names segments per environment, as the SDK read it.
    const { runtime, logs } = await startXray(daemon, () => (_req, res) => res.end(), {
      env: { AWS_XRAY_TRACING_NAME: ' notes-api-prod ' },
    });

    // Act
    await get(`${baseUrl(runtime.server!)}/ok`);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);

    // Assert: the segment's name only; the service block and the log lines keep the service.
    const segment = segmentFor(daemon, '/ok');
    expect(segment.name).toBe('notes-api-prod');
    expect(segment.document.service).toMatchObject({ name: 'notes-api' });
    expect(logs.lines.find((l) => l.path === '/ok')).toMatchObject({ service: 'notes-api' });
    expect(logs.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('logs one line saying the X-Ray SDK runs, and why', async () => {
    const { logs } = await startXray(daemon, () => (_req, res) => res.end());
    const line = logs.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('tracing through'));
    expect(line).toMatchObject({
      level: 'info',
      msg: `tracing through the X-Ray SDK: segments over UDP to 127.0.0.1:${daemon.udpPort}, local sampling`,
      tracing: { mode: 'auto', backend: 'xray', reason: 'AWS_XRAY_DAEMON_ADDRESS is set' },
    });
  });
});

describe('the incoming X-Amzn-Trace-Id', () => {
  it('continues the caller’s trace under its parent', async () => {
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end());
    await get(`${baseUrl(runtime.server!)}/child`, {
      headers: { 'x-amzn-trace-id': `Root=${callerRoot};Parent=${callerParent};Sampled=1` },
    });
    await get(`${baseUrl(runtime.server!)}/root-only`, {
      headers: { 'x-amzn-trace-id': ` root = ${callerRoot.toUpperCase()} ;; ` },
    });
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 2);
    expect(segmentFor(daemon, '/child')).toMatchObject({ traceId: callerRoot, parentId: callerParent });
    expect(segmentFor(daemon, '/root-only')).toMatchObject({ traceId: callerRoot, parentId: undefined });
  });

  it('Sampled=0: nothing reaches the daemon; the trace id still reaches the logs and the calls made', async () => {
    const { runtime, logs } = await startXray(daemon, () => async (_req, res) => {
      res.end(await (await fetch(baseUrl(downstream))).text());
    });
    const answer = await get(`${baseUrl(runtime.server!)}/quiet`, {
      headers: { 'x-amzn-trace-id': `Root=${callerRoot};Parent=${callerParent};Sampled=0` },
    });
    expect(answer.status).toBe(200);
    await runtime.tracer.flush();
    await delay(150);
    expect(daemon.datagrams).toBe(0);
    expect(logs.lines.find((l) => l.path === '/quiet')?.traceId).toBe(callerRoot);
    expect(received[0]!['x-amzn-trace-id']).toMatch(
      new RegExp(`^Root=${callerRoot};Parent=[0-9a-f]{16};Sampled=0$`),
    );
  });

  it('Sampled=?: the kit decides and answers with the decision', async () => {
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end());
    const answer = await get(`${baseUrl(runtime.server!)}/ask`, {
      headers: { 'x-amzn-trace-id': `Root=${callerRoot};Parent=${callerParent};Sampled=?` },
    });
    expect(answer.headers['x-amzn-trace-id']).toBe(`Root=${callerRoot};Sampled=1`);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    expect(daemon.segments[0]).toMatchObject({ traceId: callerRoot, parentId: callerParent });
  });

  it('Sampled=? with rules that record nothing: answered Sampled=0, and nothing sent', async () => {
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end(), {
      tracing: {
        xray: { sampling: 'local', samplingRules: { version: 2, default: { fixed_target: 0, rate: 0 } } },
      },
    });
    const answer = await get(`${baseUrl(runtime.server!)}/ask`, {
      headers: { 'x-amzn-trace-id': `Root=${callerRoot};Sampled=?` },
    });
    expect(answer.headers['x-amzn-trace-id']).toBe(`Root=${callerRoot};Sampled=0`);
    await runtime.tracer.flush();
    await delay(150);
    expect(daemon.datagrams).toBe(0);
  });

  const malformed: [string, string][] = [
    ['a short root', 'Root=1-5759e988-bd862e3fe1be46a99427279;Sampled=1'],
    ['a root with non-hex digits', 'Root=1-5759e98z-bd862e3fe1be46a994272793;Sampled=1'],
    ['another version', 'Root=2-5759e988-bd862e3fe1be46a994272793;Sampled=1'],
    ['no root', `Parent=${callerParent};Sampled=1`],
    ['a root with extra parts', 'Root=1-5759e988-bd862e3fe1be46a994272793-00;Sampled=1'],
    ['garbage', ';;==;Root;=;'],
    ['an injection attempt', 'Root=1-5759e988-bd862e3fe1be46a994272793","id":"x'],
    ['non-ASCII', 'Root=1-5759e988-bd862e3fe1be46a99427279é'],
    ['an oversized header', `Root=${callerRoot};Foo=${'x'.repeat(2000)}`],
  ];

  it.each(malformed)(
    '%s: a well-formed new trace, nothing malformed reaches the daemon',
    async (_what, header) => {
      const { runtime, logs } = await startXray(daemon, () => (_req, res) => res.end('ok'));
      const answer = await get(`${baseUrl(runtime.server!)}/m`, { headers: { 'x-amzn-trace-id': header } });
      expect(answer.status).toBe(200);
      await runtime.tracer.flush();
      await daemon.waitFor((d) => d.segments.length === 1);
      const [segment] = daemon.segments;
      expect(segment!.parentId).toBeUndefined();
      expect(segment!.traceId).not.toBe(callerRoot);
      expect(logs.lines.find((l) => l.path === '/m')?.traceId).toBe(segment!.traceId);
      expect(expectWellFormed(daemon)).toEqual([]);
    },
  );

  it('a malformed Parent is dropped, the well-formed Root kept', async () => {
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end());
    for (const parent of ['53995c3f42cd8ad', '53995c3f42cd8ad8ff', 'zz995c3f42cd8ad8', '"},{"x":1']) {
      await get(`${baseUrl(runtime.server!)}/p`, {
        headers: { 'x-amzn-trace-id': `Root=${callerRoot};Parent=${parent};Sampled=1` },
      });
    }
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 4);
    for (const segment of daemon.segments) {
      expect(segment).toMatchObject({ traceId: callerRoot, parentId: undefined });
    }
    expect(expectWellFormed(daemon)).toEqual([]);
  });
});

describe("a segment's origin", () => {
  it.each([
    [{ KUBERNETES_SERVICE_HOST: '10.100.0.1', AWS_REGION: 'eu-west-1' }, 'AWS::EKS::Container'],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=aws_app_runner' }, 'AWS::AppRunner::Service'],
    [{ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, undefined],
    [
      {
        KUBERNETES_SERVICE_HOST: '10.96.0.1',
        AWS_REGION: 'eu-west-1',
        OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=gcp_kubernetes_engine',
      },
      undefined,
    ],
  ])('follows the platform the kit assumes in %j: %s', async (env, origin) => {
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end(), { env });
    await get(`${baseUrl(runtime.server!)}/origin`);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);

    expect(segmentFor(daemon, '/origin').document.origin).toBe(origin);
  });
});
