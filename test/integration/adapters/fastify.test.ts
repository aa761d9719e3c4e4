import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, fastifyAdapter, UnsupportedAppError } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { captureLogs } from '../../support/log-capture.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

describe('the Fastify adapter', () => {
  it("drains first, then runs fastify.close() and its onClose hooks, then the kit's hooks", async () => {
    const events: string[] = [];
    const app = Fastify();
    app.get('/slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      events.push('slow request answered');
      return 'slow';
    });
    app.addHook('onClose', async () => {
      events.push('fastify onClose');
    });
    const { runtime } = await startRuntime({ app });
    runtime.onShutdown('kit hook', () => {
      events.push('kit hook');
    });
    const slow = get(`${baseUrl(runtime.server!)}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const result = await runtime.shutdown('test');
    expect((await slow).body).toBe('slow');
    expect(result.exitCode).toBe(0);
    expect(events).toEqual(['slow request answered', 'fastify onClose', 'kit hook']);
  });

  it("takes the kit's logger as loggerInstance: Fastify's own lines carry the request id", async () => {
    const logs = captureLogs();
    const app = Fastify({ loggerInstance: createLogger({ service: 'fastify-app', destination: logs }) });
    app.get('/hi', async (request) => {
      request.log.info('inside the handler');
      return 'hi';
    });
    const { runtime } = await startRuntime({ app, logging: { destination: logs } });
    await get(`${baseUrl(runtime.server!)}/hi`, { headers: { 'x-request-id': 'fastify-1' } });
    const line = logs.find('inside the handler')[0];
    expect(line).toMatchObject({ requestId: 'fastify-1', service: 'fastify-app' });
  });

  it('refuses an instance that is already listening, telling to remove listen()', async () => {
    const app = Fastify();
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await expect(startRuntime({ app })).rejects.toBeInstanceOf(UnsupportedAppError);
      await expect(startRuntime({ app })).rejects.toThrow(/remove your own fastify.listen\(\)/);
    } finally {
      await app.close();
    }
  });

  it('is picked by shape, and can be named explicitly', async () => {
    expect(fastifyAdapter.matches(Fastify())).toBe(true);
    expect(fastifyAdapter.matches(() => {})).toBe(false);
    const { runtime } = await startRuntime({
      app: Fastify().get('/x', async () => 'x'),
      adapter: fastifyAdapter,
    });
    expect((await get(`${baseUrl(runtime.server!)}/x`)).body).toBe('x');
  });
});
