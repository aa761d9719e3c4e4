/**
 * A framework the kit does not route, handed to it as a Node request listener (what Hono's
 * `getRequestListener`, h3's `toNodeHandler` and Next.js's `getRequestHandler` give): its routes and its
 * errors reach the request line, the metrics and the trace through `setRequestRoute` and
 * `reportRequestError`, as an adapter's do.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type NodeRequestListener, reportRequestError, setRequestRoute } from '../../../src/index.js';
import { captureEmf, sumOf, withDimensions } from '../../support/emf.js';
import { baseUrl, get } from '../../support/http.js';
import { type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { stopRuntimes, type TestRuntime } from '../../support/runtime.js';
import { startXRayDaemon, type XRayDaemon } from '../../support/xray-daemon.js';
import { startTraced } from '../tracing/support.js';
import { segmentFor, startXray } from '../tracing/xray-support.js';

type Handler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => void;

/**
 * A framework's router in a few lines: patterns such as `/posts/:id`, a 404 of its own, and a route's
 * error answered 500 by the router itself, as Hono, h3 and Next.js answer one. It tells the kit the
 * matched pattern and the error, as an app's middleware and error hook would.
 */
function router(routes: Record<string, Handler>): NodeRequestListener {
  const table = Object.entries(routes).map(([pattern, handler]) => {
    const names: string[] = [];
    const source = pattern.replace(/:(\w+)/g, (_match, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    return { pattern, handler, regex: new RegExp(`^${source}$`), names };
  });
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    for (const { pattern, handler, regex, names } of table) {
      const match = regex.exec(path);
      if (match === null) continue;
      setRequestRoute(pattern);
      try {
        handler(req, res, Object.fromEntries(names.map((name, i) => [name, match[i + 1]!])));
      } catch (error) {
        reportRequestError(error);
        res.statusCode = 500;
        res.end('Internal Server Error');
      }
      return;
    }
    res.statusCode = 404;
    res.end('Not Found');
  };
}

const app = router({
  '/posts/:id': (_req, res, { id }) => {
    res.end(`post ${id}`);
  },
  '/api/throw': () => {
    throw new TypeError('boom from a route');
  },
});

let collector: OtlpCollector;
let daemon: XRayDaemon;

beforeAll(async () => {
  [collector, daemon] = await Promise.all([startOtlpCollector(), startXRayDaemon()]);
});

afterEach(async () => {
  await stopRuntimes();
  collector.clear();
  daemon.clear();
});

afterAll(async () => {
  await Promise.all([collector.close(), daemon.close()]);
});

describe('a Node request listener that names its routes and reports its errors', () => {
  it('gets the route on the request line, as the Route dimension and in the span name; the error as err', async () => {
    const emf = captureEmf();
    const { runtime, logs } = await startTraced(collector, 'http/json', () => app, {
      metrics: { destination: emf, flushIntervalMs: 60_000 },
    });
    const url = baseUrl(runtime.server!);

    for (let n = 1; n <= 20; n++) expect((await get(`${url}/posts/${n}`)).status).toBe(200);
    expect((await get(`${url}/api/throw`)).status).toBe(500);
    expect((await get(`${url}/nowhere`)).status).toBe(404);
    await runtime.metrics.flush();
    await runtime.tracer.flush();

    // The request lines: 20 paths, one route; the router's own 404 named no route.
    const lines = logs.lines.filter((l) => typeof l.statusCode === 'number');
    const posts = lines.filter((l) => String(l.path).startsWith('/posts/'));
    expect(posts).toHaveLength(20);
    expect(new Set(posts.map((l) => l.route))).toEqual(new Set(['/posts/:id']));
    expect(lines.find((l) => l.path === '/nowhere')!.route).toBeUndefined();
    const failed = lines.find((l) => l.path === '/api/throw')!;
    expect(failed).toMatchObject({ level: 'error', statusCode: 500, route: '/api/throw' });
    expect(failed.err).toMatchObject({ type: 'TypeError', message: 'boom from a route' });
    expect(logs.find('request error')).toEqual([]);

    // The metrics: one Route value for the 20 posts (and the kit's own for the unrouted 404).
    const documents = emf.documents();
    const routes = new Set(documents.map((d) => d.Route).filter((route) => route !== undefined));
    expect(routes).toEqual(new Set(['/posts/:id', '/api/throw', '(none)']));
    expect(sumOf(withDimensions(documents, { Route: '/posts/:id', Method: 'GET' }), 'Requests')).toBe(20);

    // The spans: named by route, the error recorded and marked.
    const spans = await collector.waitForSpans(22);
    const postSpans = spans.filter((s) => String(s.attributes['url.path']).startsWith('/posts/'));
    expect(postSpans).toHaveLength(20);
    expect(new Set(postSpans.map((s) => s.name))).toEqual(new Set(['GET /posts/:id']));
    expect(postSpans[0]!.attributes['http.route']).toBe('/posts/:id');
    const thrown = spans.find((s) => s.attributes['url.path'] === '/api/throw');
    expect(thrown).toMatchObject({
      name: 'GET /api/throw',
      status: { code: 'error' },
      attributes: { 'error.type': '500', 'http.route': '/api/throw' },
    });
    expect(thrown!.events).toEqual([
      expect.objectContaining({
        name: 'exception',
        attributes: expect.objectContaining({
          'exception.type': 'TypeError',
          'exception.message': 'boom from a route',
        }),
      }),
    ]);
    expect(spans.find((s) => s.attributes['url.path'] === '/nowhere')!.name).toBe('GET');
  });

  it("takes an error reported on a 200 (a GraphQL server's answer with errors) for a failure: line, span, held lines; a 4xx's stays the client's", async () => {
    // What Apollo Server and GraphQL Yoga do: a resolver's error is caught, answered 200 with
    // `errors`, and handed to the app's plugin hook, which reports it; a bad query is a 400.
    const graphql = (runtime: TestRuntime['runtime']): NodeRequestListener =>
      router({
        '/graphql': (req, res) => {
          runtime.logger.debug('resolving the operation'); // held: written only if the request fails
          const resolverError = new RangeError('resolver exploded');
          const status = req.url?.includes('bad') ? 400 : 200;
          reportRequestError(status === 400 ? new SyntaxError('Syntax Error: Expected Name') : resolverError);
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ errors: [{ message: 'resolver exploded' }], data: null }));
        },
      });
    const { runtime, logs } = await startTraced(collector, 'http/json', graphql, {
      logging: { buffer: true },
    });
    const url = baseUrl(runtime.server!);
    expect((await get(`${url}/graphql`)).status).toBe(200);
    expect((await get(`${url}/graphql?bad`)).status).toBe(400);
    await runtime.tracer.flush();

    const [ok, bad] = ['/graphql', '/graphql?bad'].map((path) =>
      logs.lines.find(
        (l) => l.path === path.split('?')[0] && l.statusCode === (path === '/graphql' ? 200 : 400),
      ),
    );
    expect(ok).toMatchObject({ level: 'error', msg: 'request failed', statusCode: 200 });
    expect(ok!.err).toMatchObject({ type: 'RangeError', message: 'resolver exploded' });
    expect(bad).toMatchObject({ level: 'info', msg: 'request completed', statusCode: 400 });
    // The held line of the failed request is written, just before its line; the 4xx's is dropped.
    const held = logs.lines.filter((l) => l.msg === 'resolving the operation');
    expect(held.map((l) => l.requestId)).toEqual([ok!.requestId]);
    expect(logs.lines.indexOf(held[0]!)).toBe(logs.lines.indexOf(ok!) - 1);

    const spans = await collector.waitForSpans(2);
    const okSpan = spans.find((s) => s.attributes['http.response.status_code'] === 200);
    expect(okSpan).toMatchObject({
      name: 'GET /graphql',
      status: { code: 'error', message: 'resolver exploded' },
      attributes: { 'error.type': 'RangeError' },
    });
    expect(okSpan!.events.map((e) => e.name)).toEqual(['exception']);
    const badSpan = spans.find((s) => s.attributes['http.response.status_code'] === 400);
    expect(badSpan!.status.code).not.toBe('error');
    expect(badSpan!.attributes['error.type']).toBeUndefined();
  });

  it("gets the route as X-Ray's http_route annotation, and the error as the segment's cause and fault", async () => {
    const { runtime } = await startXray(daemon, () => app);
    const url = baseUrl(runtime.server!);

    await get(`${url}/posts/7`);
    await get(`${url}/api/throw`);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 2);

    expect(segmentFor(daemon, '/posts/7').document).toMatchObject({
      annotations: { http_route: '/posts/:id' },
    });
    const thrown = segmentFor(daemon, '/api/throw').document;
    expect(thrown).toMatchObject({ fault: true, annotations: { http_route: '/api/throw' } });
    expect((thrown.cause as { exceptions: unknown[] }).exceptions).toEqual([
      expect.objectContaining({ type: 'TypeError', message: 'boom from a route' }),
    ]);
  });
});
