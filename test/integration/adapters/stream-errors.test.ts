import { request } from 'node:http';
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

function koaApp() {
  const koa = new Koa();
  const router = new Router();
  router.get('/stream', (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = breakingStream();
  });
  koa.use(router.routes());
  return koa;
}

describe('a stream body that breaks after the response began', () => {
  it.each(['fastify', 'koa'] as const)(
    'is a failure of the server on %s (request failed, its error), not a client that went away',
    async (framework) => {
      const logs = captureLogs();
      const app = framework === 'fastify' ? fastifyApp() : koaApp();
      const { runtime } = await startRuntime({ app, logging: { destination: logs } });
      expect(await readUntilEnd(`${baseUrl(runtime.server!)}/stream`)).toBe('first part');
      await expect.poll(() => logs.lines.find((l) => l.path === '/stream')).toBeDefined();
      expect(logs.lines.find((l) => l.path === '/stream')).toMatchObject({
        level: 'error',
        msg: 'request failed',
        route: '/stream',
        err: { message: 'stream broke' },
      });
    },
  );
});
