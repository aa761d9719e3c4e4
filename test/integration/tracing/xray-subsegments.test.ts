import http, { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addRequestFields } from '../../../src/index.js';
import { type AwsEndpoint, applyEnv, awsClientEnv, startAwsEndpoint } from '../../support/aws-endpoint.js';
import { baseUrl, get } from '../../support/http.js';
import { stopRuntimes } from '../../support/runtime.js';
import { type CollectedSubsegment, startXRayDaemon, type XRayDaemon } from '../../support/xray-daemon.js';
import { callerParent, callerRoot, failingSpans, httpGet, secretsClient } from './support.js';
import { childrenOf, expectWellFormed, sampleEverything, segmentFor, startXray } from './xray-support.js';

let daemon: XRayDaemon;
let aws: AwsEndpoint;
let restoreEnv: () => void;
let downstream: Server;
let downstreamUrl: string;
const received: { path: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  daemon = await startXRayDaemon();
  aws = await startAwsEndpoint();
  aws.putSecret('notes/db', 's3cr3t-value');
  restoreEnv = applyEnv(awsClientEnv(aws));
  downstream = createServer((req, res) => {
    received.push({ path: req.url ?? '', headers: req.headers });
    res.statusCode = req.url?.startsWith('/teapot') ? 418 : 200;
    if (req.url === '/endless')
      res.write('a body that never ends'); // until the connection closes
    else res.end(`downstream ${req.url}`);
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  downstreamUrl = baseUrl(downstream);
});

afterEach(async () => {
  await stopRuntimes();
  daemon.clear();
  aws.resetCalls();
  aws.clearFaults();
  received.length = 0;
});

afterAll(async () => {
  restoreEnv();
  await daemon.close();
  await aws.close();
  downstream.closeAllConnections();
  await new Promise((resolve) => downstream.close(resolve));
});

function named(subsegments: readonly CollectedSubsegment[], name: string): CollectedSubsegment {
  const found = subsegments.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no ${name} in ${JSON.stringify(subsegments.map((s) => s.name))}`);
  return found;
}

const incoming = {
  'x-amzn-trace-id': `Root=${callerRoot};Parent=${callerParent};Sampled=1;Lineage=a87bd80c:1`,
};
const port = () => (downstream.address() as AddressInfo).port;

describe('subsegments inside a request', () => {
  it('fetch: a remote subsegment of the segment, and the downstream request is its child', async () => {
    const { runtime } = await startXray(daemon, () => async (_req, res) => {
      const answer = await fetch(`${downstreamUrl}/users/7?token=abc`);
      res.end(await answer.text());
    });
    expect((await get(`${baseUrl(runtime.server!)}/`, { headers: incoming })).body).toBe(
      'downstream /users/7?token=abc',
    );
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    const [segment] = daemon.segments;
    const [call] = childrenOf(daemon, segment!.id);
    expect(segment).toMatchObject({ traceId: callerRoot, parentId: callerParent });
    expect(call).toMatchObject({ name: '127.0.0.1', traceId: callerRoot, inProgress: false });
    expect(call!.document).toMatchObject({
      namespace: 'remote',
      http: { request: { method: 'GET', url: `${downstreamUrl}/users/7` }, response: { status: 200 } },
    });
    expect(received[0]!.headers['x-amzn-trace-id']).toBe(
      `Root=${callerRoot};Parent=${call!.id};Sampled=1;Lineage=a87bd80c:1`,
    );
  });

  it('node:http: a remote subsegment with the status and its flags; the downstream request is its child', async () => {
    const { runtime } = await startXray(daemon, () => async (_req, res) => {
      res.end(await httpGet(`${downstreamUrl}/teapot?x=1`));
    });
    await get(`${baseUrl(runtime.server!)}/`, { headers: incoming });
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    const [call] = childrenOf(daemon, daemon.segments[0]!.id);
    expect(call!.document).toMatchObject({
      namespace: 'remote',
      error: true,
      http: { request: { url: `http://127.0.0.1:${port()}/teapot` }, response: { status: 418 } },
    });
    expect(received[0]!.headers['x-amzn-trace-id']).toMatch(
      new RegExp(`^Root=${callerRoot};Parent=${call!.id};`),
    );
  });

  it('node:http with raw array headers: the subsegment URL has the port of the Host line Node wrote', async () => {
    const { runtime } = await startXray(daemon, () => async (_req, res) => {
      await new Promise<void>((resolve, reject) =>
        http
          .get(
            {
              host: '127.0.0.1',
              port: port(),
              path: '/raw?x=1',
              headers: [
                'Host',
                `127.0.0.1:${port()}`,
                'Accept',
                '*/*',
              ] as unknown as http.OutgoingHttpHeaders,
            },
            (answer) => answer.resume().on('end', resolve),
          )
          .on('error', reject),
      );
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    const [call] = childrenOf(daemon, daemon.segments[0]!.id);
    expect(call!.document).toMatchObject({ http: { request: { url: `http://127.0.0.1:${port()}/raw` } } });
  });

  it('node:http: a trace header the caller sets after creating the request wins, and no other goes with it', async () => {
    const mine = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const theirs = `Root=${callerRoot};Parent=${callerParent};Sampled=1`;
    const { runtime } = await startXray(daemon, () => async (_req, res) => {
      const send = (path: string, name: string, value: string) =>
        new Promise<void>((resolve, reject) => {
          const call = http.request(`${downstreamUrl}${path}`, (answer) =>
            answer.resume().on('end', resolve),
          );
          call.on('error', reject);
          call.setHeader(name, value);
          call.end();
        });
      await send('/traceparent', 'traceparent', mine);
      await send('/xray', 'X-Amzn-Trace-Id', theirs);
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    const headers = (path: string) => received.find((r) => r.path === path)!.headers;
    expect(headers('/traceparent').traceparent).toBe(mine);
    expect(headers('/traceparent')).not.toHaveProperty('x-amzn-trace-id');
    expect(headers('/xray')['x-amzn-trace-id']).toBe(theirs);
    expect(headers('/xray')).not.toHaveProperty('traceparent');
  });

  it('a fetch whose body never ends: the segment is sent at the response, that subsegment in progress', async () => {
    const { runtime } = await startXray(daemon, () => async (_req, res) => {
      await fetch(`${downstreamUrl}/endless`);
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    expect(daemon.segments[0]!.inProgress).toBe(false);
    expect(childrenOf(daemon, daemon.segments[0]!.id)).toEqual([
      expect.objectContaining({ name: '127.0.0.1', inProgress: true }),
    ]);
    expect(expectWellFormed(daemon)).toEqual([]);
  });

  it('a fetch that fails is a fault with the error recorded as remote', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedUrl = baseUrl(closed);
    await new Promise((resolve) => closed.close(resolve));
    const { runtime } = await startXray(daemon, () => async (_req, res) => {
      await fetch(`${closedUrl}/`).catch(() => undefined);
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    const [call] = childrenOf(daemon, daemon.segments[0]!.id);
    expect(call!.document).toMatchObject({ namespace: 'remote', fault: true });
    expect((call!.document.cause as { exceptions: { remote: boolean }[] }).exceptions[0]).toMatchObject({
      remote: true,
    });
  });

  it('node:http: a call ends at its outcome, not at the close that follows: one datagram per request', async () => {
    // Answers in full, then holds its end of the connection open: the request's close comes 300 ms late.
    const lingering = createNetServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        setTimeout(() => socket.end(), 300);
      });
    });
    await new Promise<void>((resolve) => lingering.listen(0, '127.0.0.1', resolve));
    const refused = createServer();
    await new Promise<void>((resolve) => refused.listen(0, '127.0.0.1', resolve));
    const refusedUrl = baseUrl(refused);
    await new Promise((resolve) => refused.close(resolve));
    const { runtime } = await startXray(daemon, () => (req, res) => {
      // As superagent and most callbacks do: answered the moment the body ends, or the call fails.
      const call = http.get(
        req.url === '/body'
          ? `http://127.0.0.1:${(lingering.address() as AddressInfo).port}/`
          : `${refusedUrl}/`,
        (answer) => {
          answer.resume();
          answer.on('end', () => res.end('done'));
        },
      );
      call.on('error', () => res.end('failed'));
    });
    expect((await get(`${baseUrl(runtime.server!)}/body`)).body).toBe('done');
    expect((await get(`${baseUrl(runtime.server!)}/refused`)).body).toBe('failed');
    await delay(400);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 2);
    lingering.close();
    // Sent once each, with the call inside, ended: not sent at the response with the call in
    // progress, then again when the call's close came.
    expect(daemon.datagrams).toBe(2);
    expect(daemon.subsegments.map((s) => s.inProgress)).toEqual([false, false]);
    const [failed] = childrenOf(daemon, segmentFor(daemon, '/refused').id);
    expect(failed!.document).toMatchObject({ namespace: 'remote', fault: true });
  });

  it('AWS SDK v3: one aws subsegment per call (retries inside), with operation, region and request id', async () => {
    aws.inject('GetSecretValue', { kind: 'error', error: 'ThrottlingException' });
    const { runtime } = await startXray(daemon, (rt) => {
      const client = rt.tracer.instrumentAwsClient(secretsClient(aws));
      return async (_req, res) => {
        const secret = await client.send(new GetSecretValueCommand({ SecretId: 'notes/db' }));
        res.end(String(secret.SecretString?.length));
      };
    });
    expect((await get(`${baseUrl(runtime.server!)}/`, { headers: incoming })).body).toBe('12');
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    await delay(50);

    const [segment] = daemon.segments;
    const children = childrenOf(daemon, segment!.id);
    expect(children).toHaveLength(1); // no remote subsegment per HTTP attempt below the SDK call
    const call = named(children, 'SecretsManager');
    expect(call.document).toMatchObject({
      namespace: 'aws',
      aws: { operation: 'GetSecretValue', region: 'us-east-1', retries: 1 },
      http: { response: { status: 200 } },
    });
    expect((call.document.aws as { request_id: string }).request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(daemon.subsegments).toHaveLength(1);
    for (const attempt of aws.requests('GetSecretValue')) {
      expect(attempt.headers['x-amzn-trace-id']).toBe(
        `Root=${callerRoot};Parent=${call.id};Sampled=1;Lineage=a87bd80c:1`,
      );
    }
  });

  it('AWS SDK v3: a failed call is an error (4xx), a throttled one a throttle, with the cause', async () => {
    aws.inject('GetSecretValue', { kind: 'error', error: 'ThrottlingException', times: 3 });
    const { runtime } = await startXray(daemon, (rt) => {
      const client = rt.tracer.instrumentAwsClient(secretsClient(aws));
      return async (_req, res) => {
        const throttled = await client
          .send(new GetSecretValueCommand({ SecretId: 'notes/db' }))
          .catch((e) => e);
        const missing = await client.send(new GetSecretValueCommand({ SecretId: 'missing' })).catch((e) => e);
        res.end(`${(throttled as Error).name} ${(missing as Error).name}`);
      };
    });
    expect((await get(`${baseUrl(runtime.server!)}/`)).body).toBe(
      'ThrottlingException ResourceNotFoundException',
    );
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    const [throttled, missing] = childrenOf(daemon, daemon.segments[0]!.id);
    expect(throttled!.document).toMatchObject({ throttle: true, error: true, aws: { retries: 2 } });
    expect(missing!.document).toMatchObject({ error: true, http: { response: { status: 400 } } });
    expect(missing!.document.fault).toBeUndefined();
    expect(missing!.document.cause).toMatchObject({
      exceptions: [{ type: 'ResourceNotFoundException', remote: true }],
    });
  });

  it('runtime.tracer: spans are subsegments, attributes annotations or metadata, calls their children', async () => {
    let seen: { traceId?: string | undefined; header?: string | undefined; spanId?: string | undefined } = {};
    const { runtime } = await startXray(daemon, (rt) => async (_req, res) => {
      const body = await rt.tracer.span(
        'load user',
        async (span) => {
          span.setAttributes({
            'user.id': '7',
            'retry count': 2,
            cached: false,
            tags: ['a', 'b'],
            skipped: undefined,
          });
          rt.tracer.setAttributes({ 'user-tier': 'pro', ratio: Number.NaN });
          seen = {
            traceId: rt.tracer.currentTraceId(),
            header: rt.tracer.currentTraceHeader(),
            spanId: span.spanId,
          };
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
      await failingSpans(rt, 'Tok-7e6d5c4b-xray-secret');
      rt.tracer.setAttributes({ 'request.kind': 'user' });
      res.end(body);
    });
    await get(`${baseUrl(runtime.server!)}/`, { headers: incoming });
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    const [segment] = daemon.segments;
    const spans = childrenOf(daemon, segment!.id);
    const load = named(spans, 'load user');
    expect(load.document).toMatchObject({
      annotations: { user_id: '7', retry_count: 2, cached: false, user_tier: 'pro', app_layer: 'service' },
      metadata: { default: { tags: ['a', 'b'], ratio: 'NaN' } },
    });
    expect(segment!.document).toMatchObject({ annotations: { request_kind: 'user' } });
    expect(seen).toEqual({
      traceId: callerRoot,
      header: `Root=${callerRoot};Parent=${load.id};Sampled=1;Lineage=a87bd80c:1`,
      spanId: load.id,
    });
    expect(childrenOf(daemon, load.id).map((s) => s.document.namespace)).toEqual(['remote']);
    expect(named(spans, 'fails').document).toMatchObject({
      fault: true,
      cause: { exceptions: [{ type: 'TypeError', message: 'broken' }] },
    });
    expect(named(spans, 'sync').document).toMatchObject({ fault: true });
    const leaky = JSON.stringify(named(spans, 'leaky').document);
    expect(leaky).not.toContain('Tok-7e6d5c4b');
    expect(leaky).toContain('upstream refused [REDACTED]');
    expect(named(spans, 'record then rethrow').document.cause).toMatchObject({
      exceptions: [{ type: 'RangeError', message: 'declined' }],
    });
    expect(expectWellFormed(daemon)).toEqual([]);
  });
});

describe('outside any request', () => {
  it('client calls are not traced and carry no header', async () => {
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end());
    const client = runtime.tracer.instrumentAwsClient(secretsClient(aws));
    await (await fetch(`${downstreamUrl}/a`)).text();
    await httpGet(`${downstreamUrl}/b`);
    await client.send(new GetSecretValueCommand({ SecretId: 'notes/db' }));
    expect(runtime.tracer.currentTraceId()).toBeUndefined();
    expect(runtime.tracer.currentTraceHeader()).toBeUndefined();
    await runtime.tracer.flush();
    await delay(100);
    expect(daemon.datagrams).toBe(0);
    expect(received.map((r) => r.headers['x-amzn-trace-id'])).toEqual([undefined, undefined]);
  });

  it('a segment larger than a datagram (48 spans of 2 KB, one nested in each) is sent in parts, none lost', async () => {
    // Few and large, where an app more often makes hundreds of small ones (a query each): the same
    // split, with fewer datagrams for this test's daemon, which reads in the app's own event loop.
    const { runtime } = await startXray(daemon, (rt) => async (_req, res) => {
      for (let i = 0; i < 48; i++) {
        rt.tracer.span(`step ${i}`, (span) => {
          span.setAttributes({ payload: [`${i}`.repeat(2_000)] }); // metadata, which X-Ray does not cut
          rt.tracer.span(`inner ${i}`, () => undefined);
        });
      }
      res.end('done');
    });
    await get(`${baseUrl(runtime.server!)}/`, { headers: incoming });
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1 && d.subsegments.length === 96);
    const [segment] = daemon.segments;
    const steps = childrenOf(daemon, segment!.id);
    expect(steps).toHaveLength(48);
    expect(steps.every((step) => step.independent)).toBe(true);
    expect(new Set(steps.map((step) => step.name)).size).toBe(48);
    expect(childrenOf(daemon, named(steps, 'step 47').id).map((inner) => inner.name)).toEqual(['inner 47']);
    expect(segment!.document.subsegments).toBeUndefined();
    expect(expectWellFormed(daemon)).toEqual([]);
  });

  it('work a request left running adds nothing to its segment once sent: calls untraced, a span its own trace', async () => {
    let later!: Promise<string | undefined>;
    const { runtime } = await startXray(daemon, (rt) => (_req, res) => {
      // A cache refreshed on first use: its timer keeps the request's context.
      later = new Promise((resolve) => {
        setTimeout(async () => {
          await (await fetch(`${downstreamUrl}/refresh`)).text();
          resolve(await rt.tracer.span('refresh', async (span) => span.traceId));
        }, 30);
      });
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/first`);
    const spanTrace = await later;
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 2);
    await delay(50);

    const [request, refresh] = daemon.segments;
    expect(daemon.segments).toHaveLength(2); // the request's segment sent once
    expect(childrenOf(daemon, request!.id)).toEqual([]);
    expect(received.find((r) => r.path === '/refresh')!.headers['x-amzn-trace-id']).toBeUndefined();
    expect(refresh).toMatchObject({ name: 'notes-api', traceId: spanTrace });
    expect(spanTrace).not.toBe(request!.traceId);
    expect(childrenOf(daemon, refresh!.id).map((s) => s.name)).toEqual(['refresh']);
  });

  it('work an unsampled request left running is outside it once it ended: a span its own trace, calls untraced', async () => {
    let later!: Promise<{ header: string | undefined; traceId: string | undefined }>;
    const { runtime } = await startXray(daemon, (rt) => (_req, res) => {
      later = new Promise((resolve) => {
        setTimeout(async () => {
          await (await fetch(`${downstreamUrl}/refresh`)).text();
          const header = rt.tracer.currentTraceHeader();
          resolve({ header, traceId: await rt.tracer.span('refresh', async (span) => span.traceId) });
        }, 30);
      });
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/first`, {
      headers: { 'x-amzn-trace-id': `Root=${callerRoot};Parent=${callerParent};Sampled=0` },
    });
    const { header, traceId } = await later;
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);

    expect(traceId).not.toBe(callerRoot);
    expect(daemon.segments[0]).toMatchObject({ name: 'notes-api', traceId });
    expect(header).toBeUndefined();
    expect(received.find((r) => r.path === '/refresh')!.headers['x-amzn-trace-id']).toBeUndefined();
  });

  it('a call a span left running, made once the span ended, is a subsegment of the open request', async () => {
    const { runtime } = await startXray(daemon, (rt) => async (_req, res) => {
      let called!: Promise<unknown>;
      rt.tracer.span('load', () => {
        called = delay(20).then(() => fetch(`${downstreamUrl}/late`).then((r) => r.text()));
      });
      await called;
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/span-ended`);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);

    const [request] = daemon.segments;
    expect(daemon.segments).toHaveLength(1);
    expect(childrenOf(daemon, request!.id).map((s) => s.name)).toEqual(['load', '127.0.0.1']);
  });

  it('runtime.tracer.span starts a trace of its own: a segment of the service holding the span', async () => {
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end());
    const traceId = await runtime.tracer.span('nightly job', async (span) => {
      await (await fetch(`${downstreamUrl}/job`)).text();
      return span.traceId;
    });
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    const [segment] = daemon.segments;
    expect(segment).toMatchObject({ name: 'notes-api', traceId, parentId: undefined });
    const job = named(childrenOf(daemon, segment!.id), 'nightly job');
    const [call] = childrenOf(daemon, job.id);
    expect(received[0]!.headers['x-amzn-trace-id']).toBe(`Root=${traceId};Parent=${call!.id};Sampled=1`);
  });
});

describe('correlation in X-Ray mode', () => {
  it('names the segment, then the subsegment, in spanId on the lines; forwards the request id on every call', async () => {
    const { runtime, logs } = await startXray(daemon, (rt) => async (_req, res) => {
      rt.logger.info('segment line');
      await rt.tracer.span('child work', async () => {
        rt.logger.info('subsegment line');
      });
      const client = rt.tracer.instrumentAwsClient(secretsClient(aws));
      await client.send(new GetSecretValueCommand({ SecretId: 'notes/db' }));
      await (await fetch(`${downstreamUrl}/by-fetch`)).text();
      res.end(await httpGet(`${downstreamUrl}/by-http`));
    });
    await get(`${baseUrl(runtime.server!)}/`, { headers: { ...incoming, 'x-request-id': 'xray-req-1' } });
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);

    const [segment] = daemon.segments;
    const child = named(daemon.subsegments, 'child work');
    expect(logs.find('segment line')[0]).toMatchObject({ traceId: callerRoot, spanId: segment!.id });
    expect(logs.find('subsegment line')[0]).toMatchObject({ traceId: callerRoot, spanId: child.id });
    expect(logs.find('request completed')[0]).toMatchObject({ requestId: 'xray-req-1', spanId: segment!.id });
    expect(received.map((r) => [r.path, r.headers['x-request-id']])).toEqual([
      ['/by-fetch', 'xray-req-1'],
      ['/by-http', 'xray-req-1'],
    ]);
    expect(aws.requests('GetSecretValue')[0]!.headers['x-request-id']).toBe('xray-req-1');
  });

  it('copies request fields to the segment as annotations with tracing.requestFields', async () => {
    const { runtime } = await startXray(
      daemon,
      () => (_req, res) => {
        addRequestFields({ tenant: 'acme', 'user-id': 7 });
        res.end();
      },
      { tracing: { requestFields: true, xray: { sampling: 'local', samplingRules: sampleEverything } } },
    );
    await get(`${baseUrl(runtime.server!)}/`, { headers: incoming });
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    expect(daemon.segments[0]!.document).toMatchObject({ annotations: { tenant: 'acme', user_id: 7 } });
  });

  it('writes no spanId on a line inside a span of another trace (an explicit parent within a request)', async () => {
    const { runtime, logs } = await startXray(daemon, (rt) => (_req, res) => {
      rt.tracer.span('message', () => rt.logger.info('other trace line'), {
        parent: 'Root=1-5759e988-00000000000000000000abcd;Parent=53995c3f42cd8ad8;Sampled=1',
      });
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`, { headers: incoming });
    expect(logs.find('other trace line')[0]).toMatchObject({ traceId: callerRoot });
    expect(logs.find('other trace line')[0]!.spanId).toBeUndefined();
  });

  it('writes no spanId for a trace that is not sampled', async () => {
    const { runtime, logs } = await startXray(daemon, (rt) => (_req, res) => {
      rt.logger.info('unsampled line');
      res.end();
    });
    await get(`${baseUrl(runtime.server!)}/`, {
      headers: { 'x-amzn-trace-id': `Root=${callerRoot};Sampled=0` },
    });
    expect(logs.find('unsampled line')[0]).toMatchObject({ traceId: callerRoot });
    expect(logs.find('unsampled line')[0]!.spanId).toBeUndefined();
    expect(logs.find('request completed')[0]!.spanId).toBeUndefined();
  });
});

describe('tracer.span continuing a message trace in X-Ray mode', () => {
  it("makes a segment in the header's trace, child of its Parent, with the links as metadata", async () => {
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end());
    runtime.tracer.span('notes-queue process', () => undefined, {
      kind: 'consumer',
      parent: `Root=${callerRoot};Parent=${callerParent};Sampled=1`,
      links: ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    });
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    const [segment] = daemon.segments;
    expect(segment).toMatchObject({ traceId: callerRoot, parentId: callerParent });
    const span = named(daemon.subsegments, 'notes-queue process');
    expect(span.document).toMatchObject({
      metadata: {
        'apprunner-kit': {
          links: [{ traceId: '1-4bf92f35-77b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7' }],
        },
      },
    });
    expect(expectWellFormed(daemon)).toEqual([]);
  });
});
