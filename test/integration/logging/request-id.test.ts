import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppRunnerRuntime, BootstrapOptions } from '../../../src/index.js';
import { type AwsEndpoint, applyEnv, awsClientEnv, startAwsEndpoint } from '../../support/aws-endpoint.js';
import { baseUrl, get } from '../../support/http.js';
import { captureLogs } from '../../support/log-capture.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';
import { httpGet, secretsClient } from '../tracing/support.js';

let aws: AwsEndpoint;
let restoreEnv: () => void;
let downstream: Server;
let downstreamUrl: string;
const received: { path: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  aws = await startAwsEndpoint();
  aws.putSecret('notes/db', 's3cr3t-value');
  restoreEnv = applyEnv(awsClientEnv(aws));
  downstream = createServer((req, res) => {
    received.push({ path: req.url ?? '', headers: req.headers });
    res.end('ok');
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  downstreamUrl = baseUrl(downstream);
});

afterEach(async () => {
  await stopRuntimes();
  aws.resetCalls();
  received.length = 0;
});

afterAll(async () => {
  restoreEnv();
  await aws.close();
  await new Promise((resolve) => downstream.close(resolve));
});

/** A runtime, tracing off, whose app calls downstream with fetch, node:http and an instrumented SDK client. */
async function callingApp(logging: BootstrapOptions['logging'] = {}) {
  let runtime: AppRunnerRuntime | undefined;
  const started = await startRuntime({
    tracing: { mode: 'off' },
    logging,
    app: async (req, res) => {
      const client = runtime!.tracer.instrumentAwsClient(secretsClient(aws));
      await client.send(new GetSecretValueCommand({ SecretId: 'notes/db' }));
      await (await fetch(`${downstreamUrl}/by-fetch`)).text();
      await (
        await fetch(`${downstreamUrl}/own-id`, { headers: { 'x-correlation-id': 'set-by-caller' } })
      ).text();
      await httpGet(`${downstreamUrl}/by-http`);
      res.end(req.url);
    },
  });
  runtime = started.runtime;
  return { ...started, url: baseUrl(started.runtime.server!) };
}

describe('the request id with tracing off', () => {
  it('a named header is adopted, echoed, and forwarded on fetch, node:http and AWS SDK calls, never over the caller', async () => {
    const { url, logs } = await callingApp({ requestIdHeader: 'X-Correlation-Id' });

    const response = await get(`${url}/`, {
      headers: { 'x-correlation-id': 'corr-42', 'x-request-id': 'other' },
    });

    expect(response.headers['x-correlation-id']).toBe('corr-42');
    expect(response.headers['x-request-id']).toBeUndefined();
    expect(logs.find('request completed')[0]).toMatchObject({ requestId: 'corr-42' });
    expect(received.map((r) => [r.path, r.headers['x-correlation-id']])).toEqual([
      ['/by-fetch', 'corr-42'],
      ['/own-id', 'set-by-caller'],
      ['/by-http', 'corr-42'],
    ]);
    expect(aws.requests('GetSecretValue')[0]!.headers['x-correlation-id']).toBe('corr-42');
    expect(received[0]!.headers['x-amzn-trace-id']).toBeUndefined();
  });

  it('requestIdHeader: false neither echoes nor forwards, and still adopts X-Request-Id', async () => {
    const { url, logs } = await callingApp({ requestIdHeader: false });

    const response = await get(`${url}/`, { headers: { 'x-request-id': 'kept-for-logs' } });

    expect(response.headers['x-request-id']).toBeUndefined();
    expect(logs.find('request completed')[0]).toMatchObject({ requestId: 'kept-for-logs' });
    for (const call of received) expect(call.headers['x-request-id'], call.path).toBeUndefined();
    expect(aws.requests('GetSecretValue')[0]!.headers['x-request-id']).toBeUndefined();
  });

  it('refuses a header name that is not one, or that carries something else', async () => {
    for (const requestIdHeader of [
      'x request id',
      'X-Amzn-Trace-Id',
      'Authorization',
      'transfer-encoding',
      '',
      42,
    ]) {
      const error = await startRuntime({ logging: { requestIdHeader: requestIdHeader as string } }).catch(
        (e: unknown) => e,
      );
      expect(error, String(requestIdHeader)).toMatchObject({
        code: 'ARK_CONFIG_INVALID',
        field: 'logging.requestIdHeader',
      });
    }
  });
});

describe('the request context in events Node emits on the request', () => {
  it("reaches req.on('data') and req.on('end'): their lines and calls carry the request's id", async () => {
    const logs = captureLogs();
    const express = (await import('express')).default;
    const app = express();
    app.post('/express', (req, res) => {
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
      });
      req.on('end', async () => {
        runtime.logger.info({ size }, 'body read by hand');
        await fetch(`${downstreamUrl}/from-end`);
        res.end('read');
      });
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    const answer = await fetch(`${baseUrl(runtime.server!)}/express`, {
      method: 'POST',
      headers: { 'x-request-id': 'body-by-hand-1' },
      body: 'x'.repeat(100_000),
    });
    expect(await answer.text()).toBe('read');
    expect(logs.find('body read by hand')[0]).toMatchObject({ requestId: 'body-by-hand-1', size: 100_000 });
    expect(received.map((r) => [r.path, r.headers['x-request-id']])).toEqual([
      ['/from-end', 'body-by-hand-1'],
    ]);
  });
});

describe('the request id on Koa error responses', () => {
  it("is each request's own, even for an error object thrown again, which the kit leaves as it is; never over the app's", async () => {
    const { default: Koa } = await import('koa');
    const app = new Koa();
    const forbidden = Object.assign(new Error('forbidden'), { status: 403, expose: true });
    app.use((ctx) => {
      if (ctx.path === '/getter') {
        const error = new Error('getter');
        Object.defineProperty(error, 'headers', { get: () => ({ 'x-from-app': '1' }), enumerable: true });
        throw error;
      }
      if (ctx.path === '/own')
        throw Object.assign(new Error('own'), { headers: { 'X-Request-Id': 'apps-own' } });
      if (ctx.path === '/shared') throw forbidden; // a constant, or a memoised promise that rejected
      throw new Error('plain');
    });
    const { runtime } = await startRuntime({ app });
    const url = baseUrl(runtime.server!);

    const plain = await get(`${url}/plain`, { headers: { 'x-request-id': 'koa-1' } });
    const own = await get(`${url}/own`, { headers: { 'x-request-id': 'koa-2' } });
    const getter = await get(`${url}/getter`, { headers: { 'x-request-id': 'koa-3' }, timeoutMs: 2_000 });
    const shared = [];
    for (const id of ['alice-1', 'bob-2', 'carol-3'])
      shared.push(await get(`${url}/shared`, { headers: { 'x-request-id': id } }));

    expect([plain.status, plain.headers['x-request-id']]).toEqual([500, 'koa-1']);
    expect([own.status, own.headers['x-request-id']]).toEqual([500, 'apps-own']);
    expect([getter.status, getter.headers['x-from-app'], getter.headers['x-request-id']]).toEqual([
      500,
      '1',
      'koa-3',
    ]);
    expect(shared.map((answer) => [answer.status, answer.headers['x-request-id']])).toEqual([
      [403, 'alice-1'],
      [403, 'bob-2'],
      [403, 'carol-3'],
    ]);
    expect(forbidden).not.toHaveProperty('headers');
  });
});

describe('the echo, whichever way the app writes its headers', () => {
  const shared = Object.freeze({ 'content-type': 'text/plain' });
  const routes: Record<string, (res: import('node:http').ServerResponse) => void> = {
    '/shared-object': (res) => res.writeHead(200, shared).end(),
    '/own-in-object': (res) => res.writeHead(200, { 'X-Request-Id': 'mine' }).end(),
    '/with-reason': (res) => res.writeHead(201, 'Made', { a: '1' }).end(),
    '/flat-array': (res) => res.writeHead(200, ['a', '1']).end(),
    '/nested-array': (res) => res.writeHead(200, [['a', '1']] as unknown as string[]).end(),
    '/inherited-id': (res) =>
      res
        .writeHead(200, Object.create({ 'x-request-id': 'not written by Node' }) as Record<string, string>)
        .end(),
    '/own-in-pairs': (res) => res.writeHead(200, [['x-request-id', 'mine']]).end(),
    '/set-then-write': (res) => {
      res.setHeader('b', '2');
      res.writeHead(200, { c: '3' }).end();
    },
    '/own-set': (res) => {
      res.setHeader('X-REQUEST-ID', 'mine');
      res.end();
    },
    '/implicit': (res) => res.end('x'),
    '/wrapped': (res) => {
      // What on-headers (compression, morgan, response-time) does to writeHead.
      const previous = res.writeHead;
      res.writeHead = function (this: typeof res, ...args: unknown[]) {
        this.setHeader('x-wrapped', '1');
        return (previous as (...a: unknown[]) => typeof res).apply(this, args);
      } as typeof res.writeHead;
      res.writeHead(200, { d: '4' }).end();
    },
  };

  it("adds the id to the app's headers, never over an id the app set, never into the app's object", async () => {
    const { runtime } = await startRuntime({ app: (req, res) => routes[req.url ?? '']!(res) });
    const url = baseUrl(runtime.server!);
    const seen: Record<string, [number, string | string[] | undefined]> = {};
    for (const path of Object.keys(routes)) {
      const response = await get(`${url}${path}`, { headers: { 'x-request-id': 'given-1' } });
      seen[path] = [response.status, response.headers['x-request-id']];
      if (path === '/with-reason' || path.endsWith('-array')) expect(response.headers.a, path).toBe('1');
      if (path === '/set-then-write') expect([response.headers.b, response.headers.c]).toEqual(['2', '3']);
      if (path === '/wrapped')
        expect([response.headers['x-wrapped'], response.headers.d]).toEqual(['1', '4']);
    }
    expect(seen).toEqual({
      '/shared-object': [200, 'given-1'],
      '/own-in-object': [200, 'mine'],
      '/with-reason': [201, 'given-1'],
      '/flat-array': [200, 'given-1'],
      '/nested-array': [200, 'given-1'],
      '/inherited-id': [200, 'given-1'],
      '/own-in-pairs': [200, 'mine'],
      '/set-then-write': [200, 'given-1'],
      '/own-set': [200, 'mine'],
      '/implicit': [200, 'given-1'],
      '/wrapped': [200, 'given-1'],
    });
    expect(shared).toEqual({ 'content-type': 'text/plain' });
  });
});

describe('the echo on Fastify, after a hook of the app that wraps writeHead', () => {
  it("keeps the app's wrapper and echoes the id", async () => {
    const { default: Fastify } = await import('fastify');
    const app = Fastify();
    // What on-headers does (response-time, express-session through @fastify/middie), in a hook that
    // runs before the kit's.
    app.addHook('onRequest', (_request, reply, done) => {
      const raw = reply.raw;
      const previous = raw.writeHead;
      raw.writeHead = function (this: typeof raw, ...args: unknown[]) {
        this.setHeader('x-response-time', '1ms');
        return (previous as (...a: unknown[]) => typeof raw).apply(this, args);
      } as typeof raw.writeHead;
      done();
    });
    app.get('/', async () => 'ok');
    const { runtime } = await startRuntime({ app });

    const response = await get(`${baseUrl(runtime.server!)}/`, { headers: { 'x-request-id': 'given-2' } });

    expect([response.status, response.headers['x-response-time'], response.headers['x-request-id']]).toEqual([
      200,
      '1ms',
      'given-2',
    ]);
  });
});
