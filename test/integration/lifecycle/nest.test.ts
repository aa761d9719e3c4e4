// A NestJS app handed to the kit as it is, with app.enableShutdownHooks() on as Nest's docs set it
// up, under keep-alive load on a real SIGTERM: Nest's listeners would close the app under the drain
// (its providers' onModuleDestroy closing what in-flight requests use), then signal the process again.
import { afterEach, describe, expect, it } from 'vitest';
import { killApps, startApp } from '../../support/app-process.js';
import { keepAliveLoad } from '../../support/load.js';

const fixture = new URL('../../fixtures/nest-app.mjs', import.meta.url).pathname;

afterEach(killApps);

describe('a NestJS app with enableShutdownHooks()', () => {
  it.each(['express', 'fastify'])(
    'on %s: no request fails, Nest lifecycle hooks run after the last one, exit 0',
    async (platform) => {
      const app = await startApp(fixture, { PLATFORM: platform, HOOKS: '1' });
      const exited = app.exit();
      const load = keepAliveLoad(app.port, { connections: 16, path: '/cats/7', until: exited, maxMs: 4_000 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      app.signal('SIGTERM');
      const [{ code }, report] = await Promise.all([exited, load]);

      expect(code).toBe(0);
      expect(report.failedOnOpenConnections).toBe(0);
      expect(report.succeeded).toBeGreaterThanOrEqual(16);
      const messages = app.lines.map((l) => l.msg);
      const lastRequest = messages.lastIndexOf('request completed');
      const hooks = ['onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown'].map((hook) =>
        messages.indexOf(`nest hook ${hook}`),
      );
      expect(hooks[0]).toBeGreaterThan(lastRequest);
      expect(hooks).toEqual([...hooks].sort((a, b) => a - b));
      const requests = app.lines.filter((l) => l.msg === 'request completed');
      expect(requests.every((l) => l.route === '/cats/:id' && l.statusCode === 200)).toBe(true);
      expect(app.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    },
  );
});
