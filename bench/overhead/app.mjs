// The same hello-world app on each framework (FRAMEWORK: node, express, fastify, koa), bare or under
// apprunner-kit or under the hand-assembled Express stack (VARIANT: bare, bare-1us, kit-off, kit-on,
// kit-on-no-echo (the request id header neither echoed nor forwarded), kit-on-buffer (logging.buffer
// on), kit-otel, kit-metrics, stack, floor). Logs go to stdout, which the harness sends to /dev/null.
// `bare-1us` is the bare app doing 1 µs of busy work per request: what 1 µs of work reads as in this
// measurement.
// `bare-pino` is the bare app writing one pino line of its own per request (to a buffered asynchronous
// destination, pino's cheapest): real code, with its own footprint, where busy work is a tight loop.
// `floor` is the bare app under the least code that does per request what the line-on kit does (see
// floorListener): what those features cost at the least, whoever writes them.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const port = Number(process.env.PORT);
const framework = process.env.FRAMEWORK ?? 'node';
const variant = process.env.VARIANT ?? 'bare';
const body = JSON.stringify({ hello: 'world' });
// `bare-<n>us`: the bare app doing n µs of busy work per request (bare-1us, bare-4us).
const busy = /^bare-(\d+)us$/.exec(variant);
const workUs = busy === null ? 0 : Number(busy[1]);

/** `bare-pino`'s logger: pino's cheapest destination (buffered, asynchronous) on stdout. */
const pinoLine =
  variant === 'bare-pino'
    ? (() => {
        const pino = require('pino');
        return pino(pino.destination({ dest: 1, sync: false, minLength: 4096 }));
      })()
    : undefined;

/** The reference variants' work: one pino line (`bare-pino`), or busy work for `workUs` µs. */
function work(req) {
  if (pinoLine !== undefined)
    pinoLine.info({ method: req.method, path: req.url, statusCode: 200 }, 'request completed');
  if (workUs === 0) return;
  const until = performance.now() + workUs / 1000;
  while (performance.now() < until);
}

/** `floor`'s request line, batched per event-loop turn and written to stdout as the kit's writer does. */
const floorOut = { pending: '', scheduled: false };
function floorDrain() {
  floorOut.scheduled = false;
  const bytes = Buffer.from(floorOut.pending);
  floorOut.pending = '';
  writeSync(1, bytes);
}
const floorMillis = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z"`);
const floorTime = { second: Number.NaN, prefix: '' };
/** `,"time":"…"`, its text up to the second kept for the second (as the kit does). */
function floorTimeChunk() {
  const now = Date.now();
  const millis = now % 1000;
  if (now - millis !== floorTime.second) {
    floorTime.second = now - millis;
    floorTime.prefix = `,"time":"${new Date(floorTime.second).toISOString().slice(0, -4)}`;
  }
  return floorTime.prefix + floorMillis[millis];
}
const floorContext = Symbol('floor.context');
const floorStorage = new AsyncLocalStorage();
function floorOnClose() {
  const context = this[floorContext];
  const req = context.req;
  const query = req.url.indexOf('?');
  let userAgent;
  let forwarded;
  const raw = req.rawHeaders; // not req.headers, which Node builds on first read
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // The length first: a name of another length is not lower-cased (no string made for it).
    if (name.length === 10 && name.toLowerCase() === 'user-agent') userAgent = raw[i + 1];
    else if (name.length === 15 && name.toLowerCase() === 'x-forwarded-for') forwarded = raw[i + 1];
  }
  floorOut.pending += `{"level":"info"${floorTimeChunk()},"service":"bench","instance":"floor","requestId":"${context.id}","method":"${req.method}","path":"${query === -1 ? req.url : req.url.slice(0, query)}","statusCode":${this.statusCode},"durationMs":${Math.round((performance.now() - context.startedAt) * 1000) / 1000}${userAgent === undefined ? '' : `,"userAgent":"${userAgent}"`},"clientIp":"${forwarded ?? req.socket.remoteAddress}","msg":"request completed"}\n`;
  if (!floorOut.scheduled) {
    floorOut.scheduled = true;
    setImmediate(floorDrain);
  }
}
/**
 * The id echoed: added to a copy of the headers object the app passes to writeHead, or set with
 * setHeader when it passes none (or an array, which Node merges with what setHeader set).
 */
function floorWriteHead(statusCode, reason, headers) {
  const writeHead = Object.getPrototypeOf(this).writeHead;
  const given = typeof reason === 'string' ? headers : reason;
  if (given === undefined || given === null || Array.isArray(given) || this.headersSent) {
    if (!this.headersSent) this.setHeader('x-request-id', this[floorContext].id);
    return writeHead.call(this, statusCode, reason, headers);
  }
  const copy = { ...given };
  copy['x-request-id'] = this[floorContext].id;
  return typeof reason === 'string'
    ? writeHead.call(this, statusCode, reason, copy)
    : writeHead.call(this, statusCode, copy);
}
/**
 * `floor`: per request, a context in AsyncLocalStorage, a generated id echoed in the response, a
 * close listener and one JSON request line with the kit's fields but `bytes` and `route`, batched
 * to stdout. Without what makes the kit safe or complete: no escaping of the values written, no
 * health routing, no in-flight count, no hooks; no caller's id or trace header adopted, no id the
 * app set itself looked for, the whole X-Forwarded-For as the client address. A lower bound for
 * those features, not a product.
 */
function floorListener(listener) {
  return (req, res) => {
    const context = { id: randomUUID(), startedAt: performance.now(), req };
    res[floorContext] = context;
    res.writeHead = floorWriteHead;
    res.on('close', floorOnClose);
    floorStorage.run(context, listener, req, res);
  };
}

/** The server's request listener: the app's own, or `floor`'s code in front of it. */
const served = variant === 'floor' ? floorListener : (listener) => listener;

/** Serves `listener` as each framework's own `listen` does (a Node server on it). */
function listenOn(listener) {
  return createServer(served(listener)).listen(port, '127.0.0.1');
}

function build() {
  if (framework === 'express') {
    const app = require('express')();
    app.get('/', (req, res) => {
      work(req);
      res.json({ hello: 'world' });
    });
    return { app, listen: () => listenOn(app) };
  }
  if (framework === 'fastify') {
    const app = require('fastify')(
      variant === 'floor' ? { serverFactory: (handler) => createServer(served(handler)) } : {},
    );
    app.get('/', async (req) => {
      work(req.raw);
      return { hello: 'world' };
    });
    return { app, listen: () => app.listen({ port, host: '127.0.0.1' }) };
  }
  if (framework === 'koa') {
    const Koa = require('koa');
    const app = new Koa();
    app.use((ctx) => {
      work(ctx.req);
      ctx.body = { hello: 'world' };
    });
    // callback() when listening, as Koa's listen does: it adds Koa's own error listener.
    return { app, listen: () => listenOn(app.callback()) };
  }
  const app = (req, res) => {
    work(req);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  };
  return { app, listen: () => listenOn(app) };
}

if (variant === 'stack') {
  // What an App Runner team assembles by hand today: pino-http, the X-Ray SDK's Express middleware
  // (to a daemon address on loopback: datagrams to a closed port cost the same to send), terminus.
  const express = require('express');
  const { pinoHttp } = require('pino-http');
  const AWSXRay = require('aws-xray-sdk-core');
  const xrayExpress = require('aws-xray-sdk-express');
  const { createTerminus } = require('@godaddy/terminus');
  AWSXRay.setDaemonAddress('127.0.0.1:2999');
  AWSXRay.setContextMissingStrategy('IGNORE_ERROR');
  AWSXRay.setLogger({ error() {}, warn() {}, info() {}, debug() {} });
  const app = express();
  app.use(xrayExpress.openSegment('overhead-bench'));
  app.use(pinoHttp());
  app.get('/', (_req, res) => res.json({ hello: 'world' }));
  app.use(xrayExpress.closeSegment());
  const server = createServer(app);
  createTerminus(server, { signals: ['SIGTERM'], healthChecks: { '/healthz': async () => ({}) } });
  server.listen(port, '127.0.0.1');
} else if (variant === 'bare' || variant === 'floor' || busy !== null || pinoLine !== undefined) {
  await build().listen();
  process.on('SIGINT', () => process.exit(0)); // exit normally, so that --cpu-prof can write its profile
} else {
  // KIT_MODULE: another build of the kit (a path to its dist/index.js), to compare two builds in one run.
  const { bootstrapAppRunner } = await import(process.env.KIT_MODULE ?? 'apprunner-kit');
  await bootstrapAppRunner({
    app: build().app,
    logging: {
      requests: variant !== 'kit-off',
      ...(variant === 'kit-on-no-echo' ? { requestIdHeader: false } : {}),
      ...(variant === 'kit-on-buffer' ? { buffer: true } : {}),
    },
    tracing: { mode: variant === 'kit-otel' ? 'otel' : 'off' },
    ...(variant === 'kit-metrics' ? { metrics: {} } : {}),
  });
}
