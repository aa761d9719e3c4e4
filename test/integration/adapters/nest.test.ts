// NestJS applications handed to bootstrapAppRunner in-process, on Nest's Express platform (the
// Fastify one is served the same way, through the kit's Fastify adapter: see the lifecycle test).
import 'reflect-metadata';
import { request as httpRequest, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Controller, Get, Injectable, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { nestLogger } from '../../../src/adapters/nest.js';
import { createLogger } from '../../../src/index.js';
import { get } from '../../support/http.js';
import { captureLogs } from '../../support/log-capture.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

/** A Nest module with /cats/:id and /cats/boom (throws), its provider's onModuleDestroy in `events`. */
function catsModule(events: string[]) {
  class Db {
    onModuleDestroy() {
      events.push('onModuleDestroy');
    }
  }
  Injectable()(Db);
  // Nest registers the routes in the order of the methods: /cats/boom before /cats/:id.
  class CatsController {
    boom() {
      throw new Error('kaboom');
    }
    one(id: string) {
      return { id };
    }
  }
  const proto = CatsController.prototype;
  Get('boom')(proto, 'boom', Object.getOwnPropertyDescriptor(proto, 'boom')!);
  Get(':id')(proto, 'one', Object.getOwnPropertyDescriptor(proto, 'one')!);
  Param('id')(proto, 'one', 0);
  Controller('cats')(CatsController);
  class AppModule {}
  Module({ controllers: [CatsController], providers: [Db] })(AppModule);
  return AppModule;
}

const nestOptions = { logger: false as const, abortOnError: false };

describe('a NestJS application as app', () => {
  it('is initialised by the kit (its routes answer, named), and closed after the drain', async () => {
    const events: string[] = [];
    const app = await NestFactory.create(catsModule(events), nestOptions);
    const { runtime, logs } = await startRuntime({ app });
    const address = runtime.server!.address() as { port: number };

    const response = await get(`http://127.0.0.1:${address.port}/cats/7`);
    await runtime.shutdown('test');

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ id: '7' });
    expect(logs.find('request completed')[0]).toMatchObject({ route: '/cats/:id', statusCode: 200 });
    expect(events).toEqual(['onModuleDestroy']);
  });

  it("listens with Nest's own server, where its WebSocket gateways take upgrades", async () => {
    const app = await NestFactory.create(catsModule([]), nestOptions);
    // As a gateway's adapter (@nestjs/platform-ws, socket.io) attaches to app.getHttpServer().
    const nestServer = app.getHttpServer() as Server;
    nestServer.on('upgrade', (_req, socket: Socket) => {
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
    });
    const { runtime } = await startRuntime({ app });
    const address = runtime.server!.address() as { port: number };

    expect(runtime.server).toBe(nestServer);
    const upgraded = await new Promise<number | undefined>((resolve, reject) => {
      const request = httpRequest({
        port: address.port,
        host: '127.0.0.1',
        headers: { connection: 'Upgrade', upgrade: 'test' },
      });
      request.on('upgrade', (response, socket) => {
        socket.destroy();
        resolve(response.statusCode);
      });
      request.on('response', (response) => resolve(response.statusCode));
      request.on('error', reject);
      request.end();
    });
    const response = await get(`http://127.0.0.1:${address.port}/cats/7`);
    await runtime.shutdown('test');

    expect(upgraded).toBe(101);
    expect(response.status).toBe(200);
  });

  it("takes enableShutdownHooks()'s listeners off the kit's signals only, now and on a later call", async () => {
    const app = await NestFactory.create(catsModule([]), nestOptions);
    app.enableShutdownHooks(); // Nest's default: SIGHUP, SIGINT, SIGQUIT, SIGUSR2, SIGTERM…
    const nestSignals = () => [
      ...(app as unknown as { shutdownCleanupRefs: Map<string, unknown> }).shutdownCleanupRefs.keys(),
    ];
    const { runtime, logs } = await startRuntime({ app, shutdown: { signals: ['SIGTERM'] } });
    try {
      expect(nestSignals()).toContain('SIGHUP');
      expect(nestSignals()).toContain('SIGINT');
      expect(nestSignals()).not.toContain('SIGTERM');
      expect(
        logs.lines.find((l) => String(l.msg).includes('enableShutdownHooks() on SIGTERM')),
      ).toMatchObject({
        signals: ['SIGTERM'],
      });
      app.enableShutdownHooks(['SIGTERM', 'SIGUSR1']);
      expect(nestSignals()).toContain('SIGUSR1');
      expect(nestSignals()).not.toContain('SIGTERM');
    } finally {
      await runtime.shutdown('test');
    }
  });

  it('that already listens is refused, naming app.listen()', async () => {
    const app = await NestFactory.create(catsModule([]), nestOptions);
    await app.listen(0, '127.0.0.1');
    try {
      await expect(startRuntime({ app })).rejects.toMatchObject({
        code: 'ARK_APP_UNSUPPORTED',
        message: expect.stringContaining('remove your own await app.listen(...)'),
      });
    } finally {
      await app.close();
    }
  });

  it('an application context (no HTTP server) is refused, naming Nest', async () => {
    const context = await NestFactory.createApplicationContext(catsModule([]), nestOptions);
    await expect(startRuntime({ app: context as never })).rejects.toMatchObject({
      code: 'ARK_APP_UNSUPPORTED',
      message: expect.stringContaining('NestJS application context or microservice'),
    });
    await context.close();
  });

  it("with nestLogger, an error Nest's exception filter answers 500 is on the request line", async () => {
    const logs = captureLogs();
    const app = await NestFactory.create(catsModule([]), nestOptions);
    app.useLogger(nestLogger(createLogger({ destination: logs })));
    const { runtime } = await startRuntime({ app, logging: { logger: createLogger({ destination: logs }) } });
    const address = runtime.server!.address() as { port: number };

    const response = await get(`http://127.0.0.1:${address.port}/cats/boom`);
    await runtime.shutdown('test');

    expect(response.status).toBe(500);
    const errors = logs.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      msg: 'request failed',
      route: '/cats/boom',
      statusCode: 500,
      err: { type: 'Error', message: 'kaboom' },
    });
  });
});
