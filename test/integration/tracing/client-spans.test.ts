import http, { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Agent, interceptors, request as undiciRequest } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, applyEnv, awsClientEnv, startAwsEndpoint } from '../../support/aws-endpoint.js';
import { baseUrl, get } from '../../support/http.js';
import { type CollectedSpan, type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { stopRuntimes } from '../../support/runtime.js';
import {
  callerHexRoot,
  callerParent,
  callerRoot,
  failingSpans,
  httpGet,
  secretsClient,
  startTraced,
} from './support.js';

let collector: OtlpCollector;
let aws: AwsEndpoint;
let restoreEnv: () => void;
let downstream: Server;
let downstreamUrl: string;
const received: { path: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  collector = await startOtlpCollector({ grpc: false });
  aws = await startAwsEndpoint();
  aws.putSecret('notes/db', 's3cr3t-value');
  restoreEnv = applyEnv(awsClientEnv(aws));
  downstream = createServer((req, res) => {
    received.push({ path: req.url ?? '', headers: req.headers });
    const wait = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('wait') ?? 0);
    setTimeout(() => res.end(`downstream ${req.url}`), wait);
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  downstreamUrl = baseUrl(downstream);
});

afterEach(async () => {
  await stopRuntimes();
  collector.clear();
  aws.resetCalls();
  aws.clearFaults();
  received.length = 0;
});

afterAll(async () => {
  restoreEnv();
  await collector.close();
  await aws.close();
  await new Promise((resolve) => downstream.close(resolve));
});

function byName(spans: readonly CollectedSpan[], name: string): CollectedSpan {
  const span = spans.find((s) => s.name === name);
  if (span === undefined) throw new Error(`no span ${name} in ${JSON.stringify(spans.map((s) => s.name))}`);
  return span;
}

/**
 * What http-proxy-middleware and @fastify/reply-from do: the incoming `names` go on as they came, on a
 * node:http call to `${path}-http` and a fetch to `${path}-fetch`.
 */
async function proxyOn(req: http.IncomingMessage, path: string, names: readonly string[]): Promise<void> {
  const headers = Object.fromEntries(names.map((name) => [name, String(req.headers[name])]));
  await new Promise<void>((resolve, reject) => {
    const call = http.request(`${downstreamUrl}${path}-http`, { headers }, (answer) =>
      answer.resume().on('end', resolve),
    );
    call.on('error', reject).end();
  });
  await (await fetch(`${downstreamUrl}${path}-fetch`, { headers })).text();
}

const incoming = { 'x-amzn-trace-id': `Root=${callerRoot};Parent=${callerParent};Sampled=1` };

describe('client spans inside a request', () => {
  it('fetch: a child of the server span, and the downstream request carries the trace header', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', () => async (_req, res) => {
      const answer = await fetch(`${downstreamUrl}/users/7?token=abc`);
      res.end(await answer.text());
    });
    expect((await get(`${baseUrl(runtime.server!)}/`, { headers: incoming })).body).toBe(
      'downstream /users/7?token=abc',
    );
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(2);
    const server = spans.find((s) => s.kind === 'server')!;
    const client = spans.find((s) => s.kind === 'client')!;

    expect(client).toMatchObject({ traceId: callerHexRoot, parentSpanId: server.spanId, name: 'GET' });
    expect(client.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.full': `${downstreamUrl}/users/7`,
      'server.address': '127.0.0.1',
      'server.port': (downstream.address() as AddressInfo).port,
      'http.response.status_code': 200,
    });
    expect(received[0]!.headers['x-amzn-trace-id']).toBe(
      `Root=${callerRoot};Parent=${client.spanId};Sampled=1`,
    );
  });

  it('fetch: a failed request ends its span with the error; a header the caller set is kept', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedUrl = baseUrl(closed);
    await new Promise((resolve) => closed.close(resolve));
    const { runtime } = await startTraced(collector, 'http/protobuf', () => async (_req, res) => {
      await fetch(`${closedUrl}/`).catch(() => undefined);
      await (await fetch(downstreamUrl, { headers: { 'X-Amzn-Trace-Id': 'Root=mine' } })).text();
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(3);
    const failed = spans.find((s) => s.kind === 'client' && s.status.code === 'error');
    expect(failed?.attributes['error.type']).toBeDefined();
    expect(received[0]!.headers['x-amzn-trace-id']).toBe('Root=mine');
  });

  it('node:http: a child of the server span, and the downstream request carries the trace header', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', () => async (_req, res) => {
      res.end(await httpGet(`${downstreamUrl}/orders?limit=1`));
    });
    await get(`${baseUrl(runtime.server!)}/`, { headers: incoming });
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(2);
    const server = spans.find((s) => s.kind === 'server')!;
    const client = spans.find((s) => s.kind === 'client')!;
    expect(client).toMatchObject({ traceId: callerHexRoot, parentSpanId: server.spanId });
    expect(client.attributes).toMatchObject({
      'url.full': `${downstreamUrl}/orders`,
      'http.response.status_code': 200,
    });
    expect(received[0]!.headers['x-amzn-trace-id']).toBe(
      `Root=${callerRoot};Parent=${client.spanId};Sampled=1`,
    );
  });

  it('node:http: a request made without http.request (new ClientRequest, a reference kept from before) is traced too', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', () => (_req, res) => {
      const call = new http.ClientRequest(`${downstreamUrl}/direct`, (answer) => {
        answer.resume().on('end', () => res.end());
      });
      call.end();
    });
    await get(`${baseUrl(runtime.server!)}/`, { headers: { ...incoming, 'x-request-id': 'direct-1' } });
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(2);
    const client = spans.find((s) => s.kind === 'client')!;
    expect(client.attributes).toMatchObject({ 'url.full': `${downstreamUrl}/direct` });
    expect(received[0]!.headers).toMatchObject({
      'x-request-id': 'direct-1',
      'x-amzn-trace-id': `Root=${callerRoot};Parent=${client.spanId};Sampled=1`,
    });
  });

  it('node:http: a request to a forward proxy names the origin behind it; a Host of another name, no port', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', () => async (_req, res) => {
      const port = (downstream.address() as AddressInfo).port;
      const send = (path: string, host: string) =>
        new Promise<void>((resolve, reject) =>
          http
            .get({ host: '127.0.0.1', port, path, headers: { host } }, (answer) =>
              answer.resume().on('end', resolve),
            )
            .on('error', reject),
        );
      await send('http://api.internal:8080/items?token=x', 'api.internal:8080');
      await send('/virtual', 'api.internal');
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(3);
    const clients = spans.filter((s) => s.kind === 'client').map((s) => s.attributes);
    expect(clients).toEqual([
      expect.objectContaining({
        'url.full': 'http://api.internal:8080/items',
        'server.address': 'api.internal',
        'server.port': 8080,
      }),
      expect.objectContaining({ 'url.full': 'http://127.0.0.1/virtual', 'server.address': '127.0.0.1' }),
    ]);
    expect(clients[1]).not.toHaveProperty('server.port');
  });

  it('node:http: a trace header the caller sets after creating the request wins, and no other goes with it', async () => {
    const mine = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    // Another parent than the request's: a copy of the request's own would give way to the kit's.
    const theirs = `Root=${callerRoot};Parent=b7ad6b7169203331;Sampled=1`;
    const { runtime } = await startTraced(collector, 'http/protobuf', () => (_req, res) => {
      const send = (path: string, name: string, value: string, how: 'setHeader' | 'appendHeader') =>
        new Promise<void>((resolve, reject) => {
          const call = http.request(`${downstreamUrl}${path}`, (answer) =>
            answer.resume().on('end', resolve),
          );
          call.on('error', reject);
          call[how](name, value);
          call.end();
        });
      void (async () => {
        await send('/traceparent', 'traceparent', mine, 'setHeader');
        await send('/xray', 'X-Amzn-Trace-Id', theirs, 'setHeader');
        await send('/appended', 'traceparent', mine, 'appendHeader');
        res.end();
      })();
    });
    await get(`${baseUrl(runtime.server!)}/`, {
      headers: {
        ...incoming,
        tracestate: 'rojo=00f067aa0ba902b7',
        traceparent: `00-${callerHexRoot}-${callerParent}-01`,
      },
    });
    const headers = (path: string) => received.find((r) => r.path === path)!.headers;
    expect(headers('/traceparent')).toMatchObject({ traceparent: mine });
    expect(headers('/traceparent')).not.toHaveProperty('x-amzn-trace-id');
    expect(headers('/traceparent')).not.toHaveProperty('tracestate');
    expect(headers('/xray')).toMatchObject({ 'x-amzn-trace-id': theirs });
    expect(headers('/xray')).not.toHaveProperty('traceparent');
    expect(headers('/appended')).toMatchObject({ traceparent: mine });
    expect(headers('/appended')).not.toHaveProperty('x-amzn-trace-id');
  });

  it("a reverse proxy: the trace headers it copied from the request give way to the kit's (node:http and fetch)", async () => {
    const copied = {
      ...incoming,
      traceparent: `00-${callerHexRoot}-${callerParent}-01`,
      tracestate: 'rojo=00f067aa0ba902b7',
    };
    const { runtime } = await startTraced(collector, 'http/protobuf', () => async (req, res) => {
      await proxyOn(req, '/proxied', ['x-amzn-trace-id', 'traceparent', 'tracestate']);
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`, { headers: copied });
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(3);
    for (const path of ['/proxied-http', '/proxied-fetch']) {
      const sent = received.find((r) => r.path === path)!.headers;
      const parent = /Parent=([0-9a-f]{16})/.exec(String(sent['x-amzn-trace-id']))?.[1];
      const client = spans.find((s) => s.kind === 'client' && s.spanId === parent);
      expect(client, `${path}: ${sent['x-amzn-trace-id']}`).toBeDefined();
      expect(sent['x-amzn-trace-id']).toBe(`Root=${callerRoot};Parent=${client!.spanId};Sampled=1`);
      expect(sent.traceparent).toBe(`00-${callerHexRoot}-${client!.spanId}-01`);
      expect(sent.tracestate).toBe('rojo=00f067aa0ba902b7'); // one value, not the copy and the kit's
    }
  });

  it('a reverse proxy under one propagator: the copied trace header of the other kind is taken away', async () => {
    const { runtime } = await startTraced(
      collector,
      'http/protobuf',
      () => async (req, res) => {
        await proxyOn(req, '/one', ['x-amzn-trace-id', 'traceparent']);
        res.end();
      },
      { tracing: { propagators: ['tracecontext'] } },
    );
    await get(`${baseUrl(runtime.server!)}/`, {
      headers: { ...incoming, traceparent: `00-${callerHexRoot}-${callerParent}-01` },
    });
    for (const path of ['/one-http', '/one-fetch']) {
      const sent = received.find((r) => r.path === path)!.headers;
      expect(sent, path).not.toHaveProperty('x-amzn-trace-id'); // it named the proxy's caller as parent
      expect(sent.traceparent).toMatch(new RegExp(`^00-${callerHexRoot}-[0-9a-f]{16}-01$`));
      expect(sent.traceparent).not.toContain(callerParent);
    }
  });

  it('a reverse proxy, the request continuing its X-Amzn-Trace-Id: the copied traceparent of another parent gives way too', async () => {
    // The caller's two headers name two spans of one trace; the X-Amzn-Trace-Id is the one continued
    // (read after the traceparent, or alone), the traceparent the proxy copies is the other.
    const otherParent = 'b7ad6b7169203331';
    const cases = [
      { path: '/xray-last', propagators: ['tracecontext', 'xray'], writesTraceparent: true },
      { path: '/xray-alone', propagators: ['xray'], writesTraceparent: false },
    ] as const;
    for (const { path, propagators, writesTraceparent } of cases) {
      const { runtime } = await startTraced(
        collector,
        'http/protobuf',
        () => async (req, res) => {
          await proxyOn(req, path, ['x-amzn-trace-id', 'traceparent']);
          res.end();
        },
        { tracing: { propagators: [...propagators] } },
      );
      await get(`${baseUrl(runtime.server!)}/`, {
        headers: { ...incoming, traceparent: `00-${callerHexRoot}-${otherParent}-01` },
      });
      await runtime.tracer.flush();
      const clients = (await collector.waitForSpans(3)).filter((s) => s.kind === 'client');
      for (const sentTo of [`${path}-http`, `${path}-fetch`]) {
        const sent = received.find((r) => r.path === sentTo)!.headers;
        const parent = /Parent=([0-9a-f]{16})/.exec(String(sent['x-amzn-trace-id']))?.[1];
        expect(
          clients.map((s) => s.spanId),
          `${sentTo}: ${JSON.stringify(sent)}`,
        ).toContain(parent);
        expect(sent['x-amzn-trace-id']).toBe(`Root=${callerRoot};Parent=${parent};Sampled=1`);
        if (writesTraceparent) expect(sent.traceparent).toBe(`00-${callerHexRoot}-${parent}-01`);
        else expect(sent, sentTo).not.toHaveProperty('traceparent'); // it named the caller's span
      }
      await stopRuntimes();
      collector.clear();
    }
  });

  it('node:http: raw array headers are sent as given (no header can be added), the span still made, its port read from the head', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', () => (_req, res) => {
      const raw = ['host', downstreamUrl.slice('http://'.length), 'x-raw', '1'];
      const req = http.request(`${downstreamUrl}/raw`, {
        headers: raw as unknown as http.OutgoingHttpHeaders,
      });
      req.on('response', (answer) => {
        answer.resume();
        answer.on('end', () => res.end());
      });
      req.end();
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(2);
    const clients = spans.filter((s) => s.kind === 'client');
    expect(clients).toHaveLength(1);
    expect(clients[0]!.attributes).toMatchObject({
      'url.full': `${downstreamUrl}/raw`,
      'server.port': (downstream.address() as AddressInfo).port,
    });
    expect(received[0]!.headers).toMatchObject({ 'x-raw': '1' });
    expect(received[0]!.headers['x-amzn-trace-id']).toBeUndefined();
  });

  it('AWS SDK v3: one span per call, retries inside it, the trace header on every attempt', async () => {
    aws.inject('GetSecretValue', { kind: 'error', error: 'ThrottlingException' });
    const { runtime } = await startTraced(collector, 'http/protobuf', (rt) => {
      const client = rt.tracer.instrumentAwsClient(rt.tracer.instrumentAwsClient(secretsClient(aws)));
      return async (_req, res) => {
        const secret = await client.send(new GetSecretValueCommand({ SecretId: 'notes/db' }));
        res.end(String(secret.SecretString?.length));
      };
    });
    expect((await get(`${baseUrl(runtime.server!)}/`, { headers: incoming })).body).toBe('12');
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(2);
    await delay(100);

    expect(collector.spans).toHaveLength(2); // the server span and the SDK call: no span per HTTP attempt
    const server = spans.find((s) => s.kind === 'server')!;
    const call = byName(spans, 'SecretsManager.GetSecretValue');
    expect(call).toMatchObject({
      kind: 'client',
      traceId: callerHexRoot,
      parentSpanId: server.spanId,
      status: { code: 'unset' },
    });
    expect(call.attributes).toMatchObject({
      'rpc.system': 'aws-api',
      'rpc.service': 'SecretsManager',
      'rpc.method': 'GetSecretValue',
      'cloud.region': 'us-east-1',
      'aws.region': 'us-east-1',
      'http.response.status_code': 200,
      'http.request.resend_count': 1,
    });
    expect(call.attributes['aws.request_id']).toMatch(/^[0-9a-f-]{36}$/);
    // The secret was asked for by name: its ARN comes from the answer.
    expect(call.attributes['aws.secretsmanager.secret.arn']).toMatch(
      /^arn:aws:secretsmanager:us-east-1:123456789012:secret:notes\/db-\w{6}$/,
    );
    const attempts = aws.requests('GetSecretValue');
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(attempt.headers['x-amzn-trace-id']).toBe(`Root=${callerRoot};Parent=${call.spanId};Sampled=1`);
    }
  });

  it('AWS SDK v3: a failed call marks its span as an error with the AWS error code', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', (rt) => {
      const client = rt.tracer.instrumentAwsClient(secretsClient(aws));
      return async (_req, res) => {
        const error = await client
          .send(new GetSecretValueCommand({ SecretId: 'missing' }))
          .catch((e: Error) => e);
        res.end(error instanceof Error ? error.name : 'no error');
      };
    });
    expect((await get(`${baseUrl(runtime.server!)}/`)).body).toBe('ResourceNotFoundException');
    await runtime.tracer.flush();
    const call = byName(await collector.waitForSpans(2), 'SecretsManager.GetSecretValue');
    expect(call.status.code).toBe('error');
    expect(call.attributes).toMatchObject({
      'error.type': 'ResourceNotFoundException',
      'http.response.status_code': 400,
    });
    expect(call.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('runtime.tracer.span: nested spans, with the calls inside them as children', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', (rt) => async (_req, res) => {
      const body = await rt.tracer.span(
        'load user',
        async (span) => {
          span.setAttributes({ 'user.id': '7', skipped: undefined });
          rt.tracer.setAttributes({ 'cache.hit': false });
          return (await fetch(`${downstreamUrl}/users/7`)).text();
        },
        { attributes: { 'app.layer': 'service' } },
      );
      await rt.tracer
        .span('fails', async () => {
          throw new TypeError('broken');
        })
        .catch(() => undefined);
      rt.tracer.span('sync', (span) => span.recordError(new Error('handled')));
      // A secret the kit masks in log lines, in an error's message; record, then rethrow.
      await failingSpans(rt, 'Tok-9f8e7d6c-span-secret');
      res.end(body);
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(7);
    const server = spans.find((s) => s.kind === 'server')!;
    const load = byName(spans, 'load user');
    expect(load).toMatchObject({
      kind: 'internal',
      parentSpanId: server.spanId,
      attributes: { 'user.id': '7', 'cache.hit': false, 'app.layer': 'service' },
    });
    expect(spans.find((s) => s.kind === 'client')?.parentSpanId).toBe(load.spanId);
    expect(byName(spans, 'fails')).toMatchObject({
      status: { code: 'error', message: 'broken' },
      attributes: { 'error.type': 'TypeError' },
    });
    expect(byName(spans, 'sync').status.code).toBe('error');
    expect(byName(spans, 'record then rethrow').events.map((e) => e.name)).toEqual(['exception']);
    const leaky = byName(spans, 'leaky');
    const text = JSON.stringify(leaky, (_key, value: unknown) =>
      typeof value === 'bigint' ? String(value) : value,
    );
    expect(text).not.toContain('Tok-9f8e7d6c');
    expect(text).toContain('upstream refused [REDACTED]');
    expect(leaky.status.message).toBe('upstream refused [REDACTED]');
  });
});

describe('client calls outside any request or span', () => {
  it('are not traced and carry no header (health probes, background refreshes)', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', () => (_req, res) => res.end());
    const client = runtime.tracer.instrumentAwsClient(secretsClient(aws));
    await (await fetch(`${downstreamUrl}/a`)).text();
    await httpGet(`${downstreamUrl}/b`);
    await client.send(new GetSecretValueCommand({ SecretId: 'notes/db' }));
    await runtime.tracer.flush();
    await delay(100);
    expect(collector.spans).toEqual([]);
    expect(received.map((r) => r.headers['x-amzn-trace-id'])).toEqual([undefined, undefined]);
    expect(aws.requests('GetSecretValue')[0]!.headers['x-amzn-trace-id']).toBeUndefined();
  });

  it('are traced inside runtime.tracer.span, in a trace of their own', async () => {
    const { runtime } = await startTraced(collector, 'http/protobuf', () => (_req, res) => res.end());
    const traceId = await runtime.tracer.span('nightly job', async (span) => {
      await (await fetch(`${downstreamUrl}/job`)).text();
      return span.traceId;
    });
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(2);
    const job = byName(spans, 'nightly job');
    expect(job.parentSpanId).toBeUndefined();
    expect(traceId).toBe(`1-${job.traceId.slice(0, 8)}-${job.traceId.slice(8)}`);
    expect(received[0]!.headers['x-amzn-trace-id']).toMatch(
      new RegExp(`^Root=${traceId};Parent=[0-9a-f]{16};Sampled=1$`),
    );
  });
});

describe("undici's retry and redirect interceptors", () => {
  it("send a call's later attempts in its own request, not in the one that opened the pooled connection", async () => {
    // Arrange: one keep-alive connection, opened by request A; request B's call is answered 503, then
    // 301, each attempt undici makes again from the response callback, on A's connection.
    const failed = new Set<string>();
    const flaky = createServer((req, res) => {
      received.push({ path: req.url ?? '', headers: req.headers });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/flaky' && !failed.has(req.url!)) {
        failed.add(req.url!);
        res.writeHead(503).end();
      } else if (url.pathname === '/flaky') res.writeHead(301, { location: `/moved${url.search}` }).end();
      else res.end('ok');
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const dispatcher = new Agent({ connections: 1 }).compose(
      interceptors.retry({ maxRetries: 1, minTimeout: 1, statusCodes: [503] }),
      interceptors.redirect({ maxRedirections: 1 }),
    );
    try {
      const { runtime } = await startTraced(collector, 'http/protobuf', () => async (req, res) => {
        const answer = await undiciRequest(`${baseUrl(flaky)}${req.url}`, { dispatcher });
        res.end(await answer.body.text());
      });
      const base = baseUrl(runtime.server!);

      // Act
      await get(`${base}/first`, { headers: { 'x-request-id': 'request-a' } });
      const b = await get(`${base}/flaky?of=b`, { headers: { 'x-request-id': 'request-b' } });

      // Assert: the 503, its retry's 301 and the redirect's 200, each B's, in B's trace.
      expect(b).toMatchObject({ status: 200, body: 'ok' });
      const attempts = received.filter((r) => r.path.endsWith('of=b'));
      expect(attempts.map((r) => r.path)).toEqual(['/flaky?of=b', '/flaky?of=b', '/moved?of=b']);
      expect(attempts.map((r) => r.headers['x-request-id'])).toEqual(['request-b', 'request-b', 'request-b']);
      await runtime.tracer.flush();
      const spans = await collector.waitForSpans(5);
      const serverOfB = spans.find((s) => s.kind === 'server' && s.attributes['url.path'] === '/flaky')!;
      const traceOf = (header: unknown) => String(header).split('-')[1];
      for (const attempt of attempts) expect(traceOf(attempt.headers.traceparent)).toBe(serverOfB.traceId);
      const clients = spans.filter((s) => s.kind === 'client' && s.traceId === serverOfB.traceId);
      expect(clients).toHaveLength(3);
    } finally {
      await dispatcher.close();
      await new Promise((resolve) => flaky.close(resolve));
    }
  });
});

describe('concurrent requests', () => {
  it('never share a trace: 50 at once, each with its own trace, logs and downstream header', async () => {
    const { runtime, logs } = await startTraced(collector, 'http/protobuf', (rt) => async (req, res) => {
      const wait = Math.floor(Math.random() * 30);
      await delay(Math.floor(Math.random() * 10));
      const answer = await fetch(`${downstreamUrl}/echo?wait=${wait}&id=${req.headers['x-request-id']}`);
      rt.logger.info({ seen: rt.tracer.currentTraceId() }, 'fetched');
      res.end(await answer.text());
    });
    const ids = Array.from({ length: 50 }, (_, i) => `req-${i}`);
    await Promise.all(
      ids.map((id) => get(`${baseUrl(runtime.server!)}/`, { headers: { 'x-request-id': id } })),
    );
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(100);

    const servers = spans.filter((s) => s.kind === 'server');
    expect(new Set(servers.map((s) => s.traceId)).size).toBe(50);
    for (const client of spans.filter((s) => s.kind === 'client')) {
      const parent = servers.find((s) => s.spanId === client.parentSpanId);
      expect(parent?.traceId).toBe(client.traceId);
    }
    for (const id of ids) {
      const line = logs.lines.find((l) => l.msg === 'fetched' && l.requestId === id)!;
      expect(line.seen).toBe(line.traceId);
      const downstreamRequest = received.find((r) => r.path.endsWith(`id=${id}`))!;
      expect(downstreamRequest.headers['x-amzn-trace-id']).toMatch(
        new RegExp(`^Root=${line.traceId};Parent=`),
      );
      expect(servers.some((s) => `1-${s.traceId.slice(0, 8)}-${s.traceId.slice(8)}` === line.traceId)).toBe(
        true,
      );
    }
  });
});

describe('after shutdown', () => {
  it('node:http is never wrapped (Node.js 22.12 and later), and neither it nor fetch is traced after', async () => {
    const original = { request: http.request, get: http.get };
    const { runtime } = await startTraced(collector, 'http/protobuf', () => (_req, res) => res.end());
    expect(http.request).toBe(original.request);
    expect(http.get).toBe(original.get);
    await runtime.shutdown('test');
    await runtime.tracer.span('after', async () => {
      await fetch(`${downstreamUrl}/after`).then((r) => r.text());
      await new Promise<void>((resolve, reject) =>
        http.get(`${downstreamUrl}/after-http`, (res) => res.resume().on('end', resolve)).on('error', reject),
      );
    });
    expect(received.map((r) => r.path)).toEqual(['/after', '/after-http']);
    expect(received.map((r) => r.headers['x-amzn-trace-id'])).toEqual([undefined, undefined]);
  });
});
