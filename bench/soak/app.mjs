// The soak app: one small API on each framework (FRAMEWORK: node, express, fastify, koa), under
// apprunner-kit with every feature on — request lines, a registered readiness check, a secret (an
// env: reference) read on every request, CloudWatch metrics, OpenTelemetry tracing to the OTLP sink
// the harness runs (OTEL_EXPORTER_OTLP_ENDPOINT), and load shedding set high enough never to shed.
// Started with --expose-gc: GET /__soak/memory flushes the tracer, collects garbage and answers
// process.memoryUsage(). Routes: / and /items/:id; the kit answers /healthz and /readyz.
import { createRequire } from 'node:module';
import { bootstrapAppRunner } from 'apprunner-kit';

const require = createRequire(import.meta.url);
const framework = process.env.FRAMEWORK ?? 'node';
const collect = globalThis.gc;
if (typeof collect !== 'function') throw new Error('start the soak app with node --expose-gc');

let runtime;
const hello = () => ({ hello: 'world', key: runtime.secrets.get('API_KEY').length });
const item = (id) => ({ id, key: runtime.secrets.get('API_KEY').length });

async function memory() {
  await runtime.tracer.flush();
  // Two passes: the first can leave objects with finalizers (sockets, timers) for the second.
  collect();
  await new Promise((resolve) => setImmediate(resolve));
  collect();
  return process.memoryUsage();
}

function build() {
  if (framework === 'express') {
    const app = require('express')();
    app.get('/', (_req, res) => res.json(hello()));
    app.get('/items/:id', (req, res) => res.json(item(req.params.id)));
    app.get('/__soak/memory', async (_req, res) => res.json(await memory()));
    return app;
  }
  if (framework === 'fastify') {
    const app = require('fastify')();
    app.get('/', async () => hello());
    app.get('/items/:id', async (req) => item(req.params.id));
    app.get('/__soak/memory', () => memory());
    return app;
  }
  if (framework === 'koa') {
    const Koa = require('koa');
    const Router = require('@koa/router');
    const router = new Router();
    router.get('/', (ctx) => {
      ctx.body = hello();
    });
    router.get('/items/:id', (ctx) => {
      ctx.body = item(ctx.params.id);
    });
    router.get('/__soak/memory', async (ctx) => {
      ctx.body = await memory();
    });
    return new Koa().use(router.routes());
  }
  return (req, res) => {
    const send = (value) => {
      const body = JSON.stringify(value);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.url === '/') return send(hello());
    if (req.url.startsWith('/items/')) return send(item(req.url.slice('/items/'.length)));
    if (req.url === '/__soak/memory') return void memory().then(send);
    res.statusCode = 404;
    res.end();
  };
}

runtime = await bootstrapAppRunner({
  app: build(),
  logging: { requests: true },
  tracing: { mode: 'otel' },
  metrics: {},
  secrets: { API_KEY: 'env:SOAK_API_KEY' },
  loadShedding: { maxInFlight: 10_000 },
});
runtime.health.register('dependency', async () => {});
