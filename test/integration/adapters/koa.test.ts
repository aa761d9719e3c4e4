import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import mount from 'koa-mount';
import { afterEach, describe, expect, it } from 'vitest';
import { ListenError } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

function koaApp(): Koa {
  const app = new Koa();
  const router = new Router();
  router.get('/items/:id', (ctx) => {
    ctx.body = { id: ctx.params.id };
  });
  router.get('/fail', () => {
    throw new Error('route failed');
  });
  app.use(router.routes());
  return app;
}

describe('the Koa adapter', () => {
  it('leaves the app as it was once the runtime stops, so that starting on it again adds nothing', async () => {
    const app = koaApp();
    for (let start = 0; start < 3; start++) {
      const { runtime, logs } = await startRuntime({ app });
      expect(app.listenerCount('error')).toBe(1);

      expect((await get(`${baseUrl(runtime.server!)}/items/7`)).status).toBe(200);
      expect((await get(`${baseUrl(runtime.server!)}/fail`)).status).toBe(500);
      await expect
        .poll(() => logs.lines.find((l) => l.msg === 'request completed' && l.path === '/items/7'))
        .toMatchObject({ route: '/items/:id' });
      await expect.poll(() => logs.find('request failed')).toMatchObject([{ path: '/fail', err: {} }]);
      await runtime.shutdown();

      // Koa's own printer, as its callback() leaves an app with no listener: an error of a request
      // still running is printed, not thrown by the emitter.
      expect(app.listeners('error')).toEqual([app.onerror]);
      expect(Object.hasOwn(app, 'createContext')).toBe(false);
      expect(app.createContext).toBe(Koa.prototype.createContext);
    }
  });

  it('leaves the app as it was when the start fails after the install', async () => {
    const app = koaApp();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      await expect(startRuntime({ app, port, host: '127.0.0.1' })).rejects.toBeInstanceOf(ListenError);
    } finally {
      taken.close();
    }
    expect(app.listeners('error')).toEqual([app.onerror]);
    expect(Object.hasOwn(app, 'createContext')).toBe(false);
  });

  it("names a route under koa-mount's mounts by the whole pattern, and leaves ctx._matchedRoute as the router wrote it", async () => {
    // Arrange: two versions of one API, mounted (v2 under a nested mount), and a route of the outer app.
    const version = (name: string) => {
      const api = new Koa();
      const router = new Router();
      router.get('/users/:id', (ctx) => {
        ctx.body = { version: name, seen: ctx._matchedRoute };
      });
      router.get('/', (ctx) => {
        ctx.body = name;
      });
      api.use(router.routes());
      return api;
    };
    const app = new Koa();
    // A middleware that rewrites the path itself (a tenant prefix taken off) is no mount.
    app.use(async (ctx, next) => {
      const tenant = /^\/t\/[^/]+(\/.*)$/.exec(ctx.path);
      if (tenant !== null) ctx.path = tenant[1]!;
      await next();
    });
    app.use(mount('/api/v1', version('v1')));
    app.use(mount('/api', mount('/v2', version('v2'))));
    const outer = new Router();
    outer.get('/about', (ctx) => {
      ctx.body = 'about';
    });
    app.use(outer.routes());
    const { runtime, logs } = await startRuntime({ app });
    const base = baseUrl(runtime.server!);

    // Act
    const v1 = await get(`${base}/api/v1/users/7?x=1`);
    const v2 = await get(`${base}/api/v2/users/8`);
    for (const path of ['/api/v1', '/about', '/t/acme/about'])
      expect((await get(`${base}${path}`)).status).toBe(200);

    // Assert
    expect(JSON.parse(v1.body)).toEqual({ version: 'v1', seen: '/users/:id' });
    expect(JSON.parse(v2.body)).toEqual({ version: 'v2', seen: '/users/:id' });
    const routeOf = (path: string) =>
      logs.lines.find((l) => l.msg === 'request completed' && l.path === path)?.route;
    await expect.poll(() => routeOf('/about')).toBe('/about');
    expect(routeOf('/api/v1/users/7')).toBe('/api/v1/users/:id');
    expect(routeOf('/api/v2/users/8')).toBe('/api/v2/users/:id');
    expect(routeOf('/api/v1')).toBe('/api/v1/');
    expect(routeOf('/t/acme/about')).toBe('/about');
  });
});
