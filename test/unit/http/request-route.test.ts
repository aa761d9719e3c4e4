import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import type { MutableRequestContext } from '../../../src/http/context.js';
import { RequestScope } from '../../../src/http/request-scope.js';
import { getRequestContext, type SupportedApp, setRequestRoute } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

/** A request scope on a fake request, recording what it was told of refused routes. */
function inRequest<T>(
  fn: () => T,
  routeOf?: () => string | undefined,
): { result: T; route: string | undefined; refusals: [unknown, string][] } {
  const refusals: [unknown, string][] = [];
  const scope = new RequestScope({
    routeRefused: (_context: MutableRequestContext, route, reason) => refusals.push([route, reason]),
  });
  scope.routeOf = routeOf;
  const req = { rawHeaders: [], method: 'GET', url: '/posts/42' } as unknown as IncomingMessage;
  const res = { headersSent: false, setHeader: () => res, on: () => res } as unknown as ServerResponse;
  let context: MutableRequestContext | undefined;
  const result = scope.run(req, res, () => {
    context = getRequestContext() as MutableRequestContext;
    return fn();
  });
  // What the response's 'close' does: the adapter's route is asked for then.
  scope.finish(context!, req, res);
  return { result, route: context!.route, refusals };
}

describe('setRequestRoute', () => {
  it('returns false and does nothing outside a request', () => {
    expect(setRequestRoute('/posts/:id')).toBe(false);
    expect(getRequestContext()).toBeUndefined();
  });

  it("names the request's route at once; the last call wins", () => {
    const { result, route, refusals } = inRequest(() => {
      expect(getRequestContext()?.route).toBeUndefined();
      const first = setRequestRoute('/posts/*');
      const second = setRequestRoute('/posts/:id');
      return [first, second, getRequestContext()?.route];
    });
    expect(result).toEqual([true, true, '/posts/:id']);
    expect(route).toBe('/posts/:id');
    expect(refusals).toEqual([]);
  });

  it('takes 256 characters; makes a lone surrogate well formed', () => {
    const longest = `/${'a'.repeat(255)}`;
    expect(inRequest(() => setRequestRoute(longest)).route).toBe(longest);
    expect(inRequest(() => setRequestRoute('/emoji/\ud83d')).route).toBe('/emoji/\ufffd');
  });

  it('refuses what is not a route of 1 to 256 characters without control characters, saying why once per request', () => {
    const { result, route, refusals } = inRequest(() => {
      setRequestRoute('/kept');
      return [
        setRequestRoute(42 as unknown as string),
        setRequestRoute(null as unknown as string),
        setRequestRoute(''),
        setRequestRoute(`/${'a'.repeat(256)}`),
        setRequestRoute('/a\nb'),
        setRequestRoute('/a\u007f'),
      ];
    });
    expect(result).toEqual([false, false, false, false, false, false]);
    expect(route).toBe('/kept');
    expect(refusals).toEqual([[42, 'not a string: number']]);

    for (const [value, reason] of [
      [undefined, 'not a string: undefined'],
      [null, 'not a string: null'],
      ['', 'an empty string'],
      [`/${'a'.repeat(256)}`, '257 characters, over 256'],
      ['/a\tb', 'a control character'],
      ['(none)', "the metrics' own Route value (none)"],
      ['other', "the metrics' own Route value other"],
    ] as const) {
      const refused = inRequest(() => setRequestRoute(value as unknown as string));
      expect(refused.result).toBe(false);
      expect(refused.route).toBeUndefined();
      expect(refused.refusals).toEqual([[value, reason]]);
    }
  });

  it('wins over the route the adapter finds, which is asked only when the app named none', () => {
    let asked = 0;
    const adapterRoute = () => {
      asked++;
      return '/posts/:postId';
    };
    expect(inRequest(() => setRequestRoute('/posts/:id'), adapterRoute).route).toBe('/posts/:id');
    expect(asked).toBe(0);
    expect(inRequest(() => undefined, adapterRoute).route).toBe('/posts/:postId');
    expect(asked).toBe(1);
  });

  it('returns false once the response ended, with no request line or metrics to read the route', async () => {
    const { result } = inRequest(() => {
      const context = getRequestContext() as MutableRequestContext;
      setRequestRoute('/before');
      // Still in the request's context, after its 'close' (inRequest finishes it at once).
      return new Promise((resolve) =>
        setImmediate(() => resolve([setRequestRoute('/after'), context.route])),
      );
    });
    expect(await result).toEqual([false, '/before']);
  });
});

describe('setRequestRoute in a running kit', () => {
  it("wins over Express's route on the request line; a refused route keeps Express's, with one warning line", async () => {
    const app = express();
    app.use((req, _res, next) => {
      if (req.query.name === 'explicit') setRequestRoute('/named/by/app');
      if (req.query.name === 'bad') {
        setRequestRoute('/a\nb');
        setRequestRoute('');
      }
      next();
    });
    app.get('/notes/:id', (_req, res) => {
      res.send('note');
    });
    const { runtime, logs } = await startRuntime({ app: app as unknown as SupportedApp });
    const url = baseUrl(runtime.server!);

    await get(`${url}/notes/1?name=explicit`);
    await get(`${url}/notes/2`);
    await get(`${url}/notes/3?name=bad`);

    const routes = logs.find('request completed').map((line) => [line.path, line.route]);
    expect(routes).toEqual([
      ['/notes/1', '/named/by/app'],
      ['/notes/2', '/notes/:id'],
      ['/notes/3', '/notes/:id'],
    ]);
    const warnings = logs.lines.filter((l) => String(l.msg).startsWith('setRequestRoute refused'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', refusedRoute: '/a\nb' });
    expect(warnings[0]!.msg).toContain('(a control character)');
    expect(warnings[0]!.requestId).toBe(logs.find('request completed')[2]!.requestId);
  });
});
