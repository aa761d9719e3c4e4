import http, { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWithRequestContext } from '../../../src/http/context.js';
import { createLogger } from '../../../src/logging/logger.js';
import { InstrumentationFailures } from '../../../src/tracing/instrumentation/failures.js';
import { instrumentHttpClient } from '../../../src/tracing/instrumentation/http-client.js';
import { captureLogs } from '../../support/log-capture.js';
import { testRequestContext } from '../../support/request-context.js';

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => res.end(JSON.stringify(req.headers)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

const context = testRequestContext;

/** The headers the server received for a GET made through `http.get` as looked up now. */
function seen(headers: Record<string, string> = {}): Promise<IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve(JSON.parse(body) as IncomingHttpHeaders));
      })
      .on('error', reject);
  });
}

const failures = () =>
  new InstrumentationFailures(createLogger({ service: 'test', destination: captureLogs() }));

describe('forwarding the request id on node:http with tracing off', () => {
  it('uses the http.client.request.created channel from Node.js 22.12 and 23.2, else wraps http.request', () => {
    for (const [version, expected] of [
      ['v22.11.0', false],
      ['v22.12.0', true],
      ['v23.1.0', false],
      ['v23.2.0', true],
      ['v24.0.0', true],
      ['v26.1.0', true],
    ] as const) {
      const request = http.request;
      const uninstall = instrumentHttpClient(undefined, failures(), 'x-request-id', version);
      expect(http.request === request, version).toBe(expected);
      uninstall();
      expect(http.request).toBe(request);
    }
  });

  it.each([
    ['the channel, wrapping nothing', () => instrumentHttpClient(undefined, failures(), 'x-request-id')],
    [
      'the wrapper (Node.js 22 before 22.12)',
      () => instrumentHttpClient(undefined, failures(), 'x-request-id', 'v22.11.0'),
    ],
  ])(
    'through %s: within a request only, never over the caller, and no more once removed',
    async (_, install) => {
      const request = http.request;
      const uninstall = install();
      try {
        const inside = await runWithRequestContext(context('req-7'), () => seen());
        const own = await runWithRequestContext(context('req-8'), () => seen({ 'X-Request-Id': 'callers' }));
        const outside = await seen();
        expect(inside['x-request-id']).toBe('req-7');
        expect(own['x-request-id']).toBe('callers');
        expect(outside['x-request-id']).toBeUndefined();
      } finally {
        uninstall();
      }
      expect(http.request).toBe(request);
      expect((await runWithRequestContext(context('req-9'), () => seen()))['x-request-id']).toBeUndefined();
    },
  );
});

describe('a request id the caller sets after creating the request', () => {
  /** The headers the server received for a request `change` edits after it is created. */
  function seenAfter(change: (req: http.ClientRequest) => void): Promise<IncomingHttpHeaders> {
    return new Promise((resolve, reject) => {
      const req = http.request(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve(JSON.parse(body) as IncomingHttpHeaders));
      });
      req.on('error', reject);
      change(req);
      req.end();
    });
  }

  it('wins, set or appended: one value, the caller’s, and other headers are untouched', async () => {
    const uninstall = instrumentHttpClient(undefined, failures(), 'x-request-id');
    try {
      const set = await runWithRequestContext(context('req-1'), () =>
        seenAfter((req) => req.setHeader('X-Request-Id', 'callers')),
      );
      const appended = await runWithRequestContext(context('req-2'), () =>
        seenAfter((req) => req.appendHeader('X-Request-Id', 'callers').appendHeader('x-other', 'a')),
      );
      const other = await runWithRequestContext(context('req-3'), () =>
        seenAfter((req) => req.setHeader('x-other', 'b')),
      );
      expect(set['x-request-id']).toBe('callers');
      expect(appended['x-request-id']).toBe('callers');
      expect(appended['x-other']).toBe('a');
      expect(other).toMatchObject({ 'x-request-id': 'req-3', 'x-other': 'b' });
    } finally {
      uninstall();
    }
  });
});
