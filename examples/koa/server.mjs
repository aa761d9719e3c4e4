// A notes API on Koa, run the App Runner way with apprunner-kit.
//
//   node server.mjs                         local: in-memory store, secrets from ./local-secrets.json
//   DATABASE_URL=postgres://app@db/notes \
//   DB_PASSWORD_SECRET=secretsmanager:notes/db#password node server.mjs
import { Router } from '@koa/router';
import { bootstrapAppRunner, postgresProbe } from 'apprunner-kit';
import Koa from 'koa';
import { memoryStore, postgresStore } from './notes-store.mjs';

const here = new URL('.', import.meta.url).pathname;
const databaseUrl = process.env.DATABASE_URL;
let store = memoryStore();

/** A small JSON body reader (Koa has none built in). */
async function jsonBody(ctx, next) {
  if (ctx.is('application/json')) {
    let text = '';
    for await (const chunk of ctx.req) text += chunk;
    try {
      ctx.request.body = JSON.parse(text);
    } catch {
      ctx.throw(400, 'invalid JSON');
    }
  }
  await next();
}

const router = new Router();
router.get('/notes', async (ctx) => {
  ctx.body = await store.list();
});
router.get('/notes/:id', async (ctx) => {
  const note = await store.get(ctx.params.id);
  if (note === undefined) {
    ctx.status = 404;
    ctx.body = { error: 'not found' };
    return;
  }
  ctx.body = note;
});
router.post('/notes', jsonBody, async (ctx) => {
  const text = ctx.request.body?.text;
  if (typeof text !== 'string' || text === '') {
    ctx.status = 400;
    ctx.body = { error: 'text is required' };
    return;
  }
  ctx.status = 201;
  ctx.body = await store.create(text);
});
// An outgoing HTTP call (traced when tracing is on): QUOTE_URL, else this app's own liveness.
router.get('/quote', async (ctx) => {
  const response = await fetch(process.env.QUOTE_URL ?? `http://127.0.0.1:${runtime.config.port}/healthz`);
  ctx.body = { upstreamStatus: response.status };
});

const app = new Koa();
app.use(router.routes()).use(router.allowedMethods());

const runtime = await bootstrapAppRunner({
  app,
  service: 'notes-koa',
  secrets: {
    DB_PASSWORD: {
      ref: process.env.DB_PASSWORD_SECRET ?? `file:${here}local-secrets.json#dbPassword`,
      ...(process.env.DB_PASSWORD_TTL_MS ? { ttlMs: Number(process.env.DB_PASSWORD_TTL_MS) } : {}),
    },
  },
  // After the secrets are loaded, before the first request: the database is ready when traffic comes.
  async beforeListen(runtime) {
    if (databaseUrl !== undefined) {
      store = postgresStore(runtime, databaseUrl);
      await store.init();
      runtime.health.register('postgres', postgresProbe(store.pool), { componentType: 'datastore' });
    }
    runtime.onShutdown('database', () => store.close());
  },
});
