// One app, written for each framework the conformance suite covers (FRAMEWORK: node, express4,
// express5, koa2, koa3, fastify), bootstrapped the one-line way and run as a child process.
// TLS=1 serves HTTPS (server.tls, or Fastify's own https option); WEBSOCKET=1 adds a ws server on the
// same server, which closes its clients with 1001 on runtime.signal. TRACING is a JSON `tracing`
// option.
//
// Correlation routes, the same on every framework: /fields?tenant=T&ms=N adds a request field, logs,
// waits N ms and logs again from a child logger (Fastify: request.log); /forward?to=URL&via=fetch|http
// calls URL and answers with what it answered; /span logs inside the request and inside a child span.
// /held?status=N logs two debug lines (one from a child logger; Fastify: request.log) and answers N;
// BUFFER is a JSON `logging.buffer` option (Fastify's logger too). AUTH=1 adds the app's own global
// auth, registered first (Fastify: a root onRequest hook): it logs, and answers 401 to any request
// without `authorization: Bearer conformance`. /denied fails with an http-errors 401 that carries a
// WWW-Authenticate header, left to the framework's (the kit's, for Express) error answer. CORS=1 adds the app's own CORS handling, first, as the
// cors packages do it: `https://web.example` is allowed (and reads `x-request-id`), a preflight is
// answered 204.
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createRequire } from 'node:module';
import { addRequestFields, bootstrapAppRunner, createLogger, getRequestContext } from 'apprunner-kit';

const require = createRequire(import.meta.url);
const createError = require('http-errors');
const framework = process.env.FRAMEWORK;
const tls =
  process.env.TLS === '1'
    ? {
        key: readFileSync(new URL('../fixtures/tls/key.pem', import.meta.url)),
        cert: readFileSync(new URL('../fixtures/tls/cert.pem', import.meta.url)),
      }
    : undefined;
let runtime;

const auth = process.env.AUTH === '1';
const corsOn = process.env.CORS === '1';
/**
 * The app's CORS answer (CORS=1): its headers for an allowed origin, and whether the request is a
 * preflight, which the app answers 204 at once.
 */
const cors = (method, headers) => {
  const allowed = headers.origin === 'https://web.example';
  return {
    headers: allowed
      ? {
          'access-control-allow-origin': headers.origin,
          'access-control-expose-headers': 'x-request-id',
          vary: 'Origin',
          ...(method === 'OPTIONS' ? { 'access-control-allow-methods': 'GET,PUT' } : {}),
        }
      : { vary: 'Origin' },
    preflight: method === 'OPTIONS' && headers['access-control-request-method'] !== undefined,
  };
};
/** The app's global auth (AUTH=1): true when the request may go on. */
const authorized = (headers) => {
  runtime.logger.info('auth line');
  return headers.authorization === 'Bearer conformance';
};

const hello = () => {
  runtime.logger.info({ where: 'handler' }, 'handler line');
  const context = getRequestContext();
  return { hello: framework, requestId: context?.requestId, traceId: context?.traceId };
};
const secret = () => runtime.secrets.get('GREETING');
const denied = () =>
  createError(401, 'denied', { headers: { 'WWW-Authenticate': 'Bearer realm="conformance"' } });
const slow = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const block = (ms) => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // the event loop is blocked, as by a heavy synchronous computation
  }
  return 'blocked';
};

async function fields(query, nestedLogger) {
  addRequestFields({ tenant: query.tenant });
  runtime.logger.info('fields line');
  await slow(Number(query.ms ?? 0));
  (nestedLogger ?? runtime.logger.child({ module: 'repo' })).info('nested fields line');
  return { tenant: query.tenant };
}

async function forward(query) {
  if (query.via === 'fetch') return (await fetch(query.to)).json();
  return new Promise((resolve, reject) => {
    httpGet(query.to, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

function held(query, nestedLogger) {
  runtime.logger.debug('held line');
  (nestedLogger ?? runtime.logger.child({ module: 'repo' })).debug('nested held line');
  return Number(query.status);
}

function span() {
  runtime.logger.info('request span line');
  const child = runtime.tracer.span('child work', (handle) => {
    runtime.logger.info('child span line');
    return handle.spanId;
  });
  return { child: child ?? null };
}

function buildExpress(express) {
  const app = express();
  if (corsOn)
    app.use((req, res, next) => {
      const answer = cors(req.method, req.headers);
      res.set(answer.headers);
      if (answer.preflight) res.status(204).end();
      else next();
    });
  if (auth)
    app.use((req, res, next) =>
      authorized(req.headers) ? next() : res.status(401).type('text').send('unauthorized'),
    );
  app.get('/fields', async (req, res) => res.json(await fields(req.query)));
  app.get('/forward', async (req, res) => res.json(await forward(req.query)));
  app.get('/span', (_req, res) => res.json(span()));
  app.get('/held', (req, res) => res.status(held(req.query)).json({}));
  app.get('/hello', (_req, res) => res.json(hello()));
  app.get('/notes/:id', (req, res) => res.json({ id: req.params.id }));
  // Routers mounted under a literal path, then under a parameter: the route is the whole pattern.
  const tenantNotes = express.Router();
  tenantNotes.get('/notes/:id', (req, res) => res.json({ id: req.params.id }));
  const api = express.Router();
  api.use('/tenants/:tenant', tenantNotes);
  app.use('/api', api);
  app.get('/secret', (_req, res) => res.type('text').send(secret()));
  app.get('/slow', async (req, res) => {
    await slow(Number(req.query.ms));
    res.type('text').send('slow');
  });
  app.get('/block', (req, res) => res.type('text').send(block(Number(req.query.ms))));
  app.get('/boom', () => {
    throw new Error('sync boom');
  });
  app.get('/boom-async', async () => {
    await slow(1);
    throw new Error('async boom');
  });
  app.get('/denied', (_req, _res, next) => next(denied()));
  // A GraphQL server as Apollo Server's and GraphQL Yoga's docs mount it: a middleware on a path,
  // which answers with no route of its own.
  app.use('/t/:tenant/graphql', (req, res) => res.json({ data: { mountedAt: req.baseUrl } }));
  // The same, failing: its error passed on, or a router's middleware failing before any route.
  app.use('/t/:tenant/graphql-down', (_req, _res, next) => next(new Error('graphql down')));
  const versioned = express.Router();
  versioned.use((_req, _res, next) => next(createError(403, 'denied')));
  versioned.get('/notes/:id', (req, res) => res.json({ id: req.params.id }));
  app.use('/v/:version', versioned);
  const late = express.Router();
  app.use(late);
  app.use((_req, res) => res.status(404).type('text').send('custom 404'));
  app.use((error, _req, res, next) => {
    res.setHeader('x-app-error-handler', '1');
    next(error);
  });
  return { app, addLate: () => late.get('/late', (_req, res) => res.type('text').send('late')) };
}

function buildKoa(Koa) {
  const Router = require('@koa/router');
  const app = new Koa();
  const router = new (Router.Router ?? Router)();
  if (corsOn)
    app.use(async (ctx, next) => {
      const answer = cors(ctx.method, ctx.headers);
      ctx.set(answer.headers);
      if (answer.preflight) ctx.status = 204;
      else await next();
    });
  if (auth)
    app.use(async (ctx, next) => {
      if (authorized(ctx.headers)) return next();
      ctx.status = 401;
      ctx.body = 'unauthorized';
    });
  app.use(async (_ctx, next) => {
    try {
      await next();
    } catch (error) {
      // Koa's own error handling clears the headers set so far, but keeps `error.headers`.
      error.headers = { ...error.headers, 'x-app-error-handler': '1' };
      throw error;
    }
  });
  router.get('/hello', (ctx) => {
    ctx.body = hello();
  });
  router.get('/fields', async (ctx) => {
    ctx.body = await fields(ctx.query);
  });
  router.get('/forward', async (ctx) => {
    ctx.body = await forward(ctx.query);
  });
  router.get('/span', (ctx) => {
    ctx.body = span();
  });
  router.get('/held', (ctx) => {
    ctx.status = held(ctx.query);
    ctx.body = {};
  });
  router.get('/notes/:id', (ctx) => {
    ctx.body = { id: ctx.params.id };
  });
  const tenantNotes = new (Router.Router ?? Router)();
  tenantNotes.get('/notes/:id', (ctx) => {
    ctx.body = { id: ctx.params.id };
  });
  router.use('/api/tenants/:tenant', tenantNotes.routes());
  router.get('/secret', (ctx) => {
    ctx.body = secret();
  });
  router.get('/slow', async (ctx) => {
    await slow(Number(ctx.query.ms));
    ctx.body = 'slow';
  });
  router.get('/block', (ctx) => {
    ctx.body = block(Number(ctx.query.ms));
  });
  router.get('/boom', () => {
    throw new Error('sync boom');
  });
  router.get('/boom-async', async () => {
    await slow(1);
    throw new Error('async boom');
  });
  router.get('/denied', () => {
    throw denied();
  });
  app.use(router.routes());
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = 'custom 404';
  });
  return { app, addLate: () => router.get('/late', (ctx) => (ctx.body = 'late')) };
}

function buildFastify() {
  // The kit's logger as Fastify's, so that request.log lines carry the request's fields; built with
  // the settings the kit is given below, the kit writes its own lines through it too.
  const fastify = require('fastify');
  const app = fastify({
    loggerInstance: createLogger({
      service: 'conformance',
      ...(process.env.BUFFER ? { buffer: JSON.parse(process.env.BUFFER) } : {}),
    }),
    logController: new fastify.LogController({ disableRequestLogging: true }),
    ...(tls === undefined ? {} : { https: tls }),
  });
  if (corsOn)
    app.addHook('onRequest', (request, reply, done) => {
      const answer = cors(request.method, request.headers);
      reply.headers(answer.headers);
      if (answer.preflight) reply.code(204).send();
      else done();
    });
  if (auth)
    app.addHook('onRequest', (request, reply, done) => {
      if (authorized(request.headers)) done();
      else reply.code(401).type('text/plain').send('unauthorized');
    });
  app.get('/hello', async () => hello());
  app.get('/fields', async (request) => fields(request.query, request.log));
  app.get('/forward', async (request) => forward(request.query));
  app.get('/span', async () => span());
  app.get('/held', async (request, reply) => reply.code(held(request.query, request.log)).send({}));
  app.get('/notes/:id', async (request) => ({ id: request.params.id }));
  app.register(
    async (tenantNotes) => {
      tenantNotes.get('/notes/:id', async (request) => ({ id: request.params.id }));
    },
    { prefix: '/api/tenants/:tenant' },
  );
  app.get('/secret', async (_request, reply) => reply.type('text/plain').send(secret()));
  app.get('/slow', async (request, reply) => {
    await slow(Number(request.query.ms));
    return reply.type('text/plain').send('slow');
  });
  app.get('/block', async (request, reply) => reply.type('text/plain').send(block(Number(request.query.ms))));
  app.get('/boom', () => {
    throw new Error('sync boom');
  });
  app.get('/boom-async', async () => {
    await slow(1);
    throw new Error('async boom');
  });
  app.get('/denied', async () => {
    throw denied();
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).type('text/plain').send('custom 404'));
  app.setErrorHandler((error, _request, reply) => {
    reply.header('x-app-error-handler', '1');
    // A client's error goes on to Fastify's own handler, which answers its status and headers.
    if (error.statusCode >= 400 && error.statusCode < 500) throw error;
    reply.code(500).send({ error: 'Internal Server Error' });
  });
  return { app, addLate: undefined };
}

function buildNode() {
  let late = false;
  const app = (req, res) => {
    if (corsOn) {
      const answer = cors(req.method, req.headers);
      for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
      if (answer.preflight) {
        res.statusCode = 204;
        return res.end();
      }
    }
    if (auth && !authorized(req.headers)) {
      res.statusCode = 401;
      return res.end('unauthorized');
    }
    const url = new URL(req.url, 'http://x');
    const json = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const query = Object.fromEntries(url.searchParams);
    if (url.pathname === '/hello') return json(200, hello());
    if (url.pathname === '/fields') return void fields(query).then((body) => json(200, body));
    if (url.pathname === '/forward') return void forward(query).then((body) => json(200, body));
    if (url.pathname === '/span') return json(200, span());
    if (url.pathname === '/held') return json(held(query), {});
    if (url.pathname.startsWith('/notes/')) return json(200, { id: url.pathname.slice(7) });
    if (url.pathname === '/secret') return res.end(secret());
    if (url.pathname === '/slow')
      return void slow(Number(url.searchParams.get('ms'))).then(() => res.end('slow'));
    if (url.pathname === '/block') return res.end(block(Number(url.searchParams.get('ms'))));
    if (url.pathname === '/late' && late) return res.end('late');
    if (url.pathname === '/boom' || url.pathname === '/boom-async') {
      res.setHeader('x-app-error-handler', '1');
      res.statusCode = 500;
      return res.end('Internal Server Error');
    }
    res.statusCode = 404;
    res.end('custom 404');
  };
  return { app, addLate: () => (late = true) };
}

const built =
  framework === 'express4'
    ? buildExpress(require('express4'))
    : framework === 'express5'
      ? buildExpress(require('express'))
      : framework === 'koa2'
        ? buildKoa(require('koa2'))
        : framework === 'koa3'
          ? buildKoa(require('koa'))
          : framework === 'fastify'
            ? buildFastify()
            : buildNode();

runtime = await bootstrapAppRunner({
  app: built.app,
  secrets: { GREETING: 'env:GREETING_VALUE' },
  shutdown: process.env.TIMEOUT_MS ? { timeoutMs: Number(process.env.TIMEOUT_MS) } : {},
  ...(process.env.SHEDDING ? { loadShedding: JSON.parse(process.env.SHEDDING) } : {}),
  ...(process.env.TRACING ? { tracing: JSON.parse(process.env.TRACING) } : {}),
  ...(process.env.QUIET ? { quietRequests: JSON.parse(process.env.QUIET) } : {}),
  ...(process.env.BUFFER ? { logging: { buffer: JSON.parse(process.env.BUFFER) } } : {}),
  ...(tls !== undefined && framework !== 'fastify' ? { server: { tls } } : {}),
});
if (process.env.WEBSOCKET === '1') {
  const { WebSocketServer } = require('ws');
  const wss = new WebSocketServer({ server: runtime.server });
  wss.on('connection', (socket) => socket.send(`hello from ${framework}`));
  runtime.signal.addEventListener('abort', () => {
    for (const client of wss.clients) client.close(1001, 'server shutting down');
  });
}
built.addLate?.();
