import http, { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import superagent from 'superagent';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, get } from '../../support/http.js';
import { type CollectedSpan, type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { stopRuntimes } from '../../support/runtime.js';
import { callerHexRoot, callerParent, callerRoot, startTraced } from './support.js';

// Trace headers set on a node:http request after it was created, before its head is sent: superagent
// sets every header that way, and follows a redirect with the previous request's headers.

let collector: OtlpCollector;
let downstream: Server;
let downstreamUrl: string;
const received: { path: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  collector = await startOtlpCollector({ grpc: false });
  downstream = createServer((req, res) => {
    received.push({ path: req.url ?? '', headers: req.headers });
    if (req.url === '/redirect') res.writeHead(302, { location: '/landed' }).end();
    else res.end('ok');
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  downstreamUrl = baseUrl(downstream);
});

afterEach(async () => {
  await stopRuntimes();
  collector.clear();
  received.length = 0;
});

afterAll(async () => {
  await collector.close();
  await new Promise((resolve) => downstream.close(resolve));
});

const callersTraceparent = `00-${callerHexRoot}-${callerParent}-01`;
const callersXray = `Root=${callerRoot};Parent=${callerParent};Sampled=1`;
const incoming = {
  'x-request-id': 'sa-1',
  traceparent: callersTraceparent,
  'x-amzn-trace-id': callersXray,
  tracestate: 'rojo=00f067aa0ba902b7',
};
/** A trace header of the app's own: another trace than the request's. */
const mine = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const sentTo = (path: string): IncomingHttpHeaders => {
  const found = received.find((r) => r.path === path);
  if (found === undefined) throw new Error(`nothing sent to ${path}: ${received.map((r) => r.path)}`);
  return found.headers;
};

/** The client span the request sent to `path` names as its parent, in both trace headers. */
function parentSpanOf(spans: readonly CollectedSpan[], path: string): CollectedSpan {
  const headers = sentTo(path);
  const parent = String(headers.traceparent).split('-')[2];
  const span = spans.find((s) => s.kind === 'client' && s.spanId === parent);
  expect(span, `${path}: ${JSON.stringify(headers)}`).toBeDefined();
  expect(span!.attributes['url.full']).toBe(`${downstreamUrl}${path}`);
  expect(headers['x-amzn-trace-id']).toBe(`Root=${callerRoot};Parent=${parent};Sampled=1`);
  return span!;
}

describe('superagent (every header set after the request is created)', () => {
  it("follows a redirect: the second hop names its own client span, not the first hop's", async () => {
    // Arrange
    const { runtime } = await startTraced(collector, 'http/protobuf', () => async (_req, res) => {
      res.end((await superagent.get(`${downstreamUrl}/redirect`)).text);
    });

    // Act
    const answer = await get(`${baseUrl(runtime.server!)}/`, { headers: incoming });

    // Assert
    expect(answer.body).toBe('ok');
    expect(received.map((r) => r.path)).toEqual(['/redirect', '/landed']);
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(3);
    const server = spans.find((s) => s.kind === 'server')!;
    const first = parentSpanOf(spans, '/redirect');
    const second = parentSpanOf(spans, '/landed');
    expect(second.spanId).not.toBe(first.spanId);
    expect([first.parentSpanId, second.parentSpanId]).toEqual([server.spanId, server.spanId]);
    expect(received.map((r) => r.headers['x-request-id'])).toEqual(['sa-1', 'sa-1']);
    expect(sentTo('/landed').tracestate).toBe('rojo=00f067aa0ba902b7');
  });

  it("forwarding the request's headers (a hand-written proxy): the copied trace headers give way to the kit's", async () => {
    // Arrange
    const { runtime } = await startTraced(collector, 'http/protobuf', () => async (req, res) => {
      const { host: _host, connection: _connection, ...copied } = req.headers;
      await superagent.get(`${downstreamUrl}/proxied`).set(copied as Record<string, string>);
      res.end();
    });

    // Act
    await get(`${baseUrl(runtime.server!)}/`, { headers: incoming });

    // Assert: the callee is a child of this service's call, not of this service's caller.
    await runtime.tracer.flush();
    const spans = await collector.waitForSpans(2);
    const client = parentSpanOf(spans, '/proxied');
    expect(client.parentSpanId).toBe(spans.find((s) => s.kind === 'server')!.spanId);
    expect(sentTo('/proxied')).toMatchObject({ 'x-request-id': 'sa-1', tracestate: 'rojo=00f067aa0ba902b7' });
  });

  it("with a traceparent of the caller's own: it wins, on the redirect's second hop too", async () => {
    // Arrange
    const { runtime } = await startTraced(collector, 'http/protobuf', () => async (_req, res) => {
      await superagent.get(`${downstreamUrl}/redirect`).set('traceparent', mine);
      res.end();
    });

    // Act
    await get(`${baseUrl(runtime.server!)}/`, { headers: incoming });

    // Assert
    for (const path of ['/redirect', '/landed']) {
      const headers = sentTo(path);
      expect(headers.traceparent, path).toBe(mine);
      expect(headers, path).not.toHaveProperty('x-amzn-trace-id');
      expect(headers, path).not.toHaveProperty('tracestate');
    }
  });
});

describe('node:http: a copied trace header set after creating the request', () => {
  /** Sends a request to `path`, after `change` sets its headers. */
  const send = (path: string, change: (req: http.ClientRequest) => void) =>
    new Promise<void>((resolve, reject) => {
      const call = http.request(`${downstreamUrl}${path}`, (answer) => answer.resume().on('end', resolve));
      call.on('error', reject);
      change(call);
      call.end();
    });

  it("is taken away where the kit writes no header of its kind; goes beside a trace header of the caller's own, in either order", async () => {
    // Arrange
    const { runtime } = await startTraced(
      collector,
      'http/protobuf',
      () => async (_req, res) => {
        await send('/xray-copied', (req) => req.setHeader('X-Amzn-Trace-Id', callersXray));
        await send('/copy-then-mine', (req) => {
          req.setHeader('X-Amzn-Trace-Id', callersXray);
          req.setHeader('traceparent', mine);
        });
        await send('/mine-then-copy', (req) => {
          req.setHeader('traceparent', mine);
          req.appendHeader('X-Amzn-Trace-Id', callersXray);
        });
        res.end();
      },
      { tracing: { propagators: ['tracecontext'] } },
    );

    // Act
    await get(`${baseUrl(runtime.server!)}/`, { headers: incoming });

    // Assert: as when the same headers are given as the request is created.
    expect(sentTo('/xray-copied')).not.toHaveProperty('x-amzn-trace-id');
    expect(sentTo('/xray-copied').traceparent).toMatch(new RegExp(`^00-${callerHexRoot}-[0-9a-f]{16}-01$`));
    expect(sentTo('/xray-copied').traceparent).not.toBe(callersTraceparent);
    for (const path of ['/copy-then-mine', '/mine-then-copy']) {
      expect(sentTo(path), path).toMatchObject({ traceparent: mine, 'x-amzn-trace-id': callersXray });
    }
  });
});
