// The same hello-world app on each framework (FRAMEWORK: node, express, fastify, koa), bare or under
// apprunner-kit or under the hand-assembled Express stack (VARIANT: bare, bare-1us, kit-off, kit-on,
// kit-on-no-echo (the request id header neither echoed nor forwarded), kit-otel, kit-metrics, stack). Logs go to stdout, which the harness sends to /dev/null. `bare-1us`
// is the bare app doing 1 µs of busy work per request: what 1 µs of work reads as in this measurement.
// `bare-pino` is the bare app writing one pino line of its own per request (to a buffered asynchronous
// destination, pino's cheapest): real code, with its own footprint, where busy work is a tight loop.
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

function build() {
  if (framework === 'express') {
    const app = require('express')();
    app.get('/', (req, res) => {
      work(req);
      res.json({ hello: 'world' });
    });
    return { app, listen: () => app.listen(port, '127.0.0.1') };
  }
  if (framework === 'fastify') {
    const app = require('fastify')();
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
    return { app, listen: () => app.listen(port, '127.0.0.1') };
  }
  const app = (req, res) => {
    work(req);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  };
  return { app, listen: () => createServer(app).listen(port, '127.0.0.1') };
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
} else if (variant === 'bare' || busy !== null || pinoLine !== undefined) {
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
    },
    tracing: { mode: variant === 'kit-otel' ? 'otel' : 'off' },
    ...(variant === 'kit-metrics' ? { metrics: {} } : {}),
  });
}
