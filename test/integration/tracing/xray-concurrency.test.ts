import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppRunnerRuntime, SupportedApp } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes, type TestRuntime } from '../../support/runtime.js';
import { startXRayDaemon, type XRayDaemon } from '../../support/xray-daemon.js';
import { childrenOf, expectWellFormed, sampleEverything, segmentFor, startXray } from './xray-support.js';

const require = createRequire(import.meta.url);

let daemon: XRayDaemon;
let downstream: Server;
let downstreamUrl: string;
const received = new Map<string, IncomingHttpHeaders>();

beforeAll(async () => {
  daemon = await startXRayDaemon();
  downstream = createServer((req, res) => {
    received.set(req.url ?? '', req.headers);
    const wait = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('wait') ?? 0);
    setTimeout(() => res.end(`downstream ${req.url}`), wait);
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  downstreamUrl = baseUrl(downstream);
});

afterEach(async () => {
  await stopRuntimes();
  daemon.clear();
  received.clear();
});

afterAll(async () => {
  await daemon.close();
  await new Promise((resolve) => downstream.close(resolve));
});

/** The work each request does: a random pause, a fetch that names the request, a log line. */
async function work(runtime: AppRunnerRuntime, id: string): Promise<string> {
  await delay(Math.floor(Math.random() * 10));
  const answer = await fetch(`${downstreamUrl}/echo?wait=${Math.floor(Math.random() * 30)}&id=${id}`);
  runtime.logger.info({ seen: runtime.tracer.currentTraceId(), note: id }, 'fetched');
  return answer.text();
}

/**
 * Sends `count` concurrent requests to `/notes/<i>` and checks each got a segment of its own, whose
 * one subsegment is its own fetch, whose header names that subsegment, and whose logs carry it.
 */
async function expectOwnSegments(started: TestRuntime, count: number, route: string | undefined) {
  const { runtime, logs } = started;
  const ids = Array.from({ length: count }, (_, i) => `n${i}`);
  const answers = await Promise.all(ids.map((id) => get(`${baseUrl(runtime.server!)}/notes/${id}`)));
  expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
  await runtime.tracer.flush();
  await daemon.waitFor((d) => d.segments.length === count);

  expect(new Set(daemon.segments.map((s) => s.traceId)).size).toBe(count);
  for (const id of ids) {
    const segment = segmentFor(daemon, `/notes/${id}`);
    const children = childrenOf(daemon, segment.id);
    expect(children).toHaveLength(1);
    const [call] = children;
    expect((call!.document.http as { request: { url: string } }).request.url).toContain('/echo');
    const header = [...received.entries()].find(([path]) => path.endsWith(`id=${id}`))![1];
    expect(header['x-amzn-trace-id']).toBe(`Root=${segment.traceId};Parent=${call!.id};Sampled=1`);
    const line = logs.lines.find((l) => l.msg === 'fetched' && l.note === id)!;
    expect(line).toMatchObject({ traceId: segment.traceId, seen: segment.traceId });
    if (route !== undefined) expect(segment.document.annotations).toEqual({ http_route: route });
  }
  expect(daemon.subsegments).toHaveLength(count);
  expect(expectWellFormed(daemon)).toEqual([]);
}

describe('concurrent requests', () => {
  it('50 at once on a plain listener: each its own segment, subsegment, downstream header and logs', async () => {
    const started = await startXray(daemon, (rt) => async (req, res) => {
      res.end(await work(rt, (req.url ?? '').slice('/notes/'.length)));
    });
    await expectOwnSegments(started, 50, undefined);
  });
});

type AppFactory = (runtime: () => AppRunnerRuntime) => SupportedApp;

function expressApp(module: string): AppFactory {
  return (runtime) => {
    const express = require(module) as typeof import('express');
    const app = express();
    app.get('/notes/:id', async (req, res) => {
      res.type('text').send(await work(runtime(), req.params.id));
    });
    return app as unknown as SupportedApp;
  };
}

function koaApp(module: string): AppFactory {
  return (runtime) => {
    const Koa = require(module) as new () => { use(fn: unknown): unknown };
    const routerModule = require('@koa/router') as { Router?: unknown };
    const Router = (routerModule.Router ?? routerModule) as new () => {
      get(path: string, fn: (ctx: { params: { id: string }; body: unknown }) => Promise<void>): void;
      routes(): unknown;
    };
    const app = new Koa();
    const router = new Router();
    router.get('/notes/:id', async (ctx) => {
      ctx.body = await work(runtime(), ctx.params.id);
    });
    app.use(router.routes());
    return app as unknown as SupportedApp;
  };
}

const fastifyApp: AppFactory = (runtime) => {
  const app = Fastify();
  app.get<{ Params: { id: string } }>('/notes/:id', async (request) => work(runtime(), request.params.id));
  return app as unknown as SupportedApp;
};

describe.each([
  ['express 5', expressApp('express')],
  ['express 4', expressApp('express4')],
  ['koa 3', koaApp('koa')],
  ['koa 2', koaApp('koa2')],
  ['fastify', fastifyApp],
] as const)('on %s', (_name, build) => {
  it('20 concurrent requests each get their own segment, named route, subsegment and logs', async () => {
    let runtime: AppRunnerRuntime | undefined;
    const started = await startRuntime({
      service: 'notes-api',
      app: build(() => runtime!),
      tracing: { mode: 'xray', xray: { sampling: 'local', samplingRules: sampleEverything } },
      env: { AWS_XRAY_DAEMON_ADDRESS: daemon.address },
    });
    runtime = started.runtime;
    await expectOwnSegments(started, 20, '/notes/:id');
  });
});
