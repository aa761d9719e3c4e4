import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killApps, type RunningApp, startApp } from '../../support/app-process.js';
import { type AwsEndpoint, awsClientEnv, startAwsEndpoint } from '../../support/aws-endpoint.js';
import { get } from '../../support/http.js';
import { requirePostgres, type ServiceInstance, startPostgres } from '../../support/services/index.js';

const root = new URL('../../../', import.meta.url).pathname;
const loadsHook = join(root, 'test/fixtures/loads/register.mjs');
const examples = ['express', 'fastify', 'koa'] as const;
const postgres = requirePostgres({ dedicated: true });

afterEach(killApps);

async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
  };
}

async function exerciseNotes(app: RunningApp): Promise<void> {
  const created = await post(`${app.url}/notes`, { text: 'buy milk' });
  expect(created).toEqual({ status: 201, body: { id: 1, text: 'buy milk' } });
  expect(JSON.parse((await get(`${app.url}/notes`)).body)).toEqual([{ id: 1, text: 'buy milk' }]);
  expect(JSON.parse((await get(`${app.url}/notes/1`)).body)).toEqual({ id: 1, text: 'buy milk' });
  expect((await get(`${app.url}/notes/99`)).status).toBe(404);
  expect((await post(`${app.url}/notes`, { nope: true })).status).toBe(400);
  expect(JSON.parse((await get(`${app.url}/quote`)).body)).toEqual({ upstreamStatus: 200 });
  expect((await get(`${app.url}/healthz`)).status).toBe(200);
}

describe.each(examples)('examples/%s', (name) => {
  const server = join(root, 'examples', name, 'server.mjs');

  it('runs on local defaults — memory store, file secrets, no AWS module loaded — and exits 0 on SIGTERM', async () => {
    const loads = join(root, `node_modules/.cache-example-${name}-loads.txt`);
    writeFileSync(loads, '');
    const app = await startApp(server, { NODE_OPTIONS: `--import=${loadsHook}`, LOADS_FILE: loads });
    await exerciseNotes(app);
    expect(JSON.parse((await get(`${app.url}/readyz`)).body).status).toBe('pass');
    app.signal('SIGTERM');
    expect((await app.exit()).code).toBe(0);
    expect(app.lines.filter((l) => 'notJson' in l)).toEqual([]);
    if (name === 'fastify') {
      // One logger: the app's request.log line and the kit's own lines share its service, no warning.
      const created = app.lines.find((l) => l.msg === 'note created');
      expect(created).toMatchObject({ service: 'notes-fastify', noteId: 1 });
      expect(typeof created?.requestId).toBe('string');
      expect(created).not.toHaveProperty('reqId'); // Fastify's id is the kit's, named as the kit names it
      expect(app.lines.find((l) => l.msg === 'shutdown complete')).toMatchObject({
        service: 'notes-fastify',
      });
      expect(app.lines.filter((l) => l.level === 'warn')).toEqual([]);
    }
    expect(
      readFileSync(loads, 'utf8')
        .split('\n')
        .filter((url) => /@aws-sdk|@opentelemetry/.test(url)),
    ).toEqual([]);
  });
});

describe.skipIf(!postgres.available)(
  'the examples on a real PostgreSQL, with the password in Secrets Manager',
  () => {
    let database: ServiceInstance;
    let endpoint: AwsEndpoint;
    let admin: pg.Client;

    beforeAll(async () => {
      [database, endpoint] = await Promise.all([startPostgres(), startAwsEndpoint()]);
      // The app's role authenticates with a password (the rest of the test cluster trusts 127.0.0.1).
      const hba = join(database.dir, 'data', 'pg_hba.conf');
      writeFileSync(hba, `host all notes_app 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
      admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query('SELECT pg_reload_conf()');
      await admin.query("CREATE ROLE notes_app LOGIN PASSWORD 'first-password'");
      await admin.query('GRANT ALL ON SCHEMA public TO notes_app');
      endpoint.putSecret('notes/db', JSON.stringify({ username: 'notes_app', password: 'first-password' }));
    });

    afterAll(async () => {
      await admin?.end();
      await endpoint?.close();
      await database?.dispose();
    });

    function env(extra: Record<string, string> = {}): Record<string, string> {
      return {
        ...awsClientEnv(endpoint),
        DATABASE_URL: `postgres://notes_app@127.0.0.1:${database.port}/postgres`,
        DB_PASSWORD_SECRET: 'secretsmanager:notes/db#password',
        ...extra,
      };
    }

    it.each(examples)('%s answers its API from PostgreSQL, with a readiness probe on it', async (name) => {
      await admin.query('DROP TABLE IF EXISTS notes');
      const app = await startApp(join(root, 'examples', name, 'server.mjs'), env());
      await exerciseNotes(app);
      const ready = JSON.parse((await get(`${app.url}/readyz`)).body);
      expect(ready.checks.postgres[0].status).toBe('pass');
      app.signal('SIGTERM');
      expect((await app.exit()).code).toBe(0);
    });

    it('picks up a rotated database password for new connections, with no failed request', async () => {
      await admin.query('DROP TABLE IF EXISTS notes');
      const app = await startApp(
        join(root, 'examples/express/server.mjs'),
        env({ DB_PASSWORD_TTL_MS: '1000', DB_MAX_LIFETIME_SECONDS: '1' }),
      );
      const statuses: number[] = [];
      let rotated = false;
      const started = performance.now();
      while (performance.now() - started < 4_000) {
        statuses.push((await post(`${app.url}/notes`, { text: `note ${statuses.length}` })).status);
        if (!rotated && performance.now() - started > 1_000) {
          // A rotation as Secrets Manager runs it: the new version becomes AWSCURRENT, the role changes.
          endpoint.rotateSecret(
            'notes/db',
            JSON.stringify({ username: 'notes_app', password: 'second-password' }),
          );
          await admin.query("ALTER ROLE notes_app PASSWORD 'second-password'");
          rotated = true;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(statuses.length).toBeGreaterThan(50);
      expect(statuses.filter((s) => s !== 201)).toEqual([]);
      // The old password is refused now, so connections made after the rotation used the new one.
      const old = new pg.Client({
        connectionString: `postgres://notes_app:first-password@127.0.0.1:${database.port}/postgres`,
      });
      await expect(old.connect()).rejects.toThrow(/password authentication failed/);
      const fresh = await get(`${app.url}/notes`);
      expect(JSON.parse(fresh.body).length).toBe(statuses.length);
      app.signal('SIGTERM');
      expect((await app.exit()).code).toBe(0);
    });
  },
);
