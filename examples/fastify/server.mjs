// A notes API on Fastify, run the App Runner way with apprunner-kit.
//
//   node server.mjs                         local: in-memory store, secrets from ./local-secrets.json
//   DATABASE_URL=postgres://app@db/notes \
//   DB_PASSWORD_SECRET=secretsmanager:notes/db#password node server.mjs

import { bootstrapAppRunner, createLogger, postgresProbe } from 'apprunner-kit';
import Fastify, { LogController } from 'fastify';
import { memoryStore, postgresStore } from './notes-store.mjs';

const here = new URL('.', import.meta.url).pathname;
const databaseUrl = process.env.DATABASE_URL;
let store = memoryStore();

// The kit's logger is Fastify's (`request.log` lines carry the request id, trace id and fields), and
// the kit writes its own lines through it. Fastify's request lines are off: the kit writes one. Its
// request id (`request.id`, the kit's) is logged as `requestId`, once, rather than also as `reqId`.
const app = Fastify({
  loggerInstance: createLogger({ service: 'notes-fastify' }),
  logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
});
app.get('/notes', async () => store.list());
app.get('/notes/:id', async (request, reply) => {
  const note = await store.get(request.params.id);
  if (note === undefined) return reply.code(404).send({ error: 'not found' });
  return note;
});
app.post('/notes', async (request, reply) => {
  if (typeof request.body?.text !== 'string' || request.body.text === '') {
    return reply.code(400).send({ error: 'text is required' });
  }
  const note = await store.create(request.body.text);
  request.log.info({ noteId: note.id }, 'note created');
  return reply.code(201).send(note);
});
// An outgoing HTTP call (traced when tracing is on): QUOTE_URL, else this app's own liveness.
app.get('/quote', async () => {
  const response = await fetch(process.env.QUOTE_URL ?? `http://127.0.0.1:${runtime.config.port}/healthz`);
  return { upstreamStatus: response.status };
});

const runtime = await bootstrapAppRunner({
  app,
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
