// A notes API on Express, run the App Runner way with apprunner-kit.
//
//   node server.mjs                         local: in-memory store, secrets from ./local-secrets.json
//   DATABASE_URL=postgres://app@db/notes \
//   DB_PASSWORD_SECRET=secretsmanager:notes/db#password node server.mjs

import { bootstrapAppRunner, postgresProbe } from 'apprunner-kit';
import express from 'express';
import { memoryStore, postgresStore } from './notes-store.mjs';

const here = new URL('.', import.meta.url).pathname;
const databaseUrl = process.env.DATABASE_URL;
let store = memoryStore();

const app = express();
app.use(express.json());
app.get('/notes', async (_req, res) => res.json(await store.list()));
app.get('/notes/:id', async (req, res) => {
  const note = await store.get(req.params.id);
  if (note === undefined) return res.status(404).json({ error: 'not found' });
  res.json(note);
});
app.post('/notes', async (req, res) => {
  if (typeof req.body?.text !== 'string' || req.body.text === '') {
    return res.status(400).json({ error: 'text is required' });
  }
  res.status(201).json(await store.create(req.body.text));
});
// An outgoing HTTP call (traced when tracing is on): QUOTE_URL, else this app's own liveness.
app.get('/quote', async (_req, res) => {
  const response = await fetch(process.env.QUOTE_URL ?? `http://127.0.0.1:${runtime.config.port}/healthz`);
  res.json({ upstreamStatus: response.status });
});

const runtime = await bootstrapAppRunner({
  app,
  service: 'notes-express',
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
