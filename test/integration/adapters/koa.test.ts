import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
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
});
