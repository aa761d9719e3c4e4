import { once } from 'node:events';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { type AddressInfo, connect } from 'node:net';
import { Readable } from 'node:stream';
import Router from '@koa/router';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { baseUrl } from '../../support/http.js';
import { captureLogs } from '../../support/log-capture.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

/** A body whose source breaks after its first chunk went out. */
function breakingStream(): Readable {
  const stream = new Readable({ read() {} });
  stream.push('first part');
  setTimeout(() => stream.destroy(new Error('stream broke')), 30);
  return stream;
}

/** GET `url` and read until the connection ends; resolves either way. */
function readUntilEnd(url: string): Promise<string> {
  return new Promise((resolve) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += String(chunk);
      });
      res.on('end', () => resolve(body));
      res.on('error', () => resolve(body));
    })
      .on('error', () => resolve(''))
      .end();
  });
}

function fastifyApp() {
  const fastify = Fastify();
  fastify.get('/stream', (_request, reply) => reply.type('text/plain').send(breakingStream()));
  return fastify;
}

// Koa 2 is the devDependency alias `koa2`, typed as Koa 3 (their API is the same here).
const Koa2 = createRequire(import.meta.url)('koa2') as typeof Koa;

/** `onError`: told of each error Koa reports (its `error` event). */
function koaApp(line: 2 | 3 = 3, onError?: () => void) {
  const koa = line === 2 ? new Koa2() : new Koa();
  if (onError !== undefined) koa.on('error', onError);
  const router = new Router();
  router.get('/stream', (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = breakingStream();
  });
  koa.use(router.routes());
  return koa;
}

describe('a stream body that breaks after the response began', () => {
  it.each(['fastify', 'koa 2', 'koa 3'] as const)(
    'is a failure of the server on %s (request failed, its error, once), not a client that went away; the connection ends',
    async (framework) => {
      const logs = captureLogs();
      let koaReports = 0;
      const counted = () => {
        koaReports++;
      };
      const app = framework === 'fastify' ? fastifyApp() : koaApp(framework === 'koa 2' ? 2 : 3, counted);
      const { runtime } = await startRuntime({ app, logging: { destination: logs } });
      // Koa 2 left the response open: this read never ended, and the request stayed in flight.
      expect(await readUntilEnd(`${baseUrl(runtime.server!)}/stream`)).toBe('first part');
      await expect.poll(() => logs.lines.find((l) => l.path === '/stream')).toBeDefined();
      expect(logs.lines.find((l) => l.path === '/stream')).toMatchObject({
        level: 'error',
        msg: 'request failed',
        route: '/stream',
        err: { message: 'stream broke' },
      });
      // Koa 3 reports the error twice: both reports are in before the lines are counted.
      if (framework === 'koa 3') await expect.poll(() => koaReports).toBe(2);
      expect(logs.lines.filter((l) => l.level === 'error')).toHaveLength(1);
      expect(runtime.stats().inFlight).toBe(0);
    },
  );
});

describe('what is not a stream body of the request that broke', () => {
  it('Koa: a client that resets the connection before the answer is a client abort', async () => {
    const logs = captureLogs();
    const koa = new Koa();
    koa.use(async (ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      ctx.body = 'late';
    });
    const { runtime } = await startRuntime({ app: koa, logging: { destination: logs } });
    const { port } = runtime.server!.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /reset HTTP/1.1\r\nHost: x\r\n\r\n');
    setTimeout(() => socket.resetAndDestroy(), 50);
    await expect.poll(() => logs.lines.find((l) => l.path === '/reset'), { timeout: 3_000 }).toBeDefined();
    expect(logs.lines.find((l) => l.path === '/reset')).toMatchObject({
      level: 'warn',
      msg: 'request aborted',
    });
  });

  it('Fastify: a stream that breaks in another instance’s inject() does not fail the request that caught it', async () => {
    const logs = captureLogs();
    const other = Fastify();
    other.get('/s', (_request, reply) => reply.send(breakingStream()));
    const fastify = Fastify();
    fastify.get('/outer', async () => {
      await other.inject('/s').catch(() => undefined);
      return 'fine';
    });
    const { runtime } = await startRuntime({ app: fastify, logging: { destination: logs } });
    const answer = await fetch(`${baseUrl(runtime.server!)}/outer`);
    expect(await answer.text()).toBe('fine');
    await expect.poll(() => logs.lines.find((l) => l.path === '/outer')).toBeDefined();
    expect(logs.lines.find((l) => l.path === '/outer')).toMatchObject({
      level: 'info',
      msg: 'request completed',
    });
    await other.close();
  });
});
