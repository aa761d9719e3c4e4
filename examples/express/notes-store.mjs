// The notes store: PostgreSQL when DATABASE_URL is set, else memory (local runs need nothing).
import pg from 'pg';

const invalidPassword = '28P01';

/**
 * A PostgreSQL store whose password is read through a function on every new connection, so that a
 * rotated password reaches new connections without a restart. On an authentication failure (the
 * password was rotated and the cached value is older), the secret is refreshed once and the query
 * retried.
 */
export function postgresStore(runtime, databaseUrl) {
  // Not `connectionString`: pg lets the URL's (absent) password override the password function.
  const url = new URL(databaseUrl);
  const pool = new pg.Pool({
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    database: url.pathname.slice(1) || undefined,
    password: () => runtime.secrets.get('DB_PASSWORD'),
    max: 5,
    connectionTimeoutMillis: 2_000,
    maxLifetimeSeconds: Number(process.env.DB_MAX_LIFETIME_SECONDS ?? 300),
  });
  pool.on('error', (error) => runtime.logger.warn({ err: error }, 'idle database connection failed'));

  async function query(text, values) {
    try {
      return await pool.query(text, values);
    } catch (error) {
      if (error.code !== invalidPassword) throw error;
      runtime.logger.info('database refused the password: refreshing the secret');
      await runtime.secrets.refresh('DB_PASSWORD');
      return pool.query(text, values);
    }
  }

  return {
    pool,
    async init() {
      await query('CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, text text NOT NULL)');
    },
    async list() {
      return (await query('SELECT id, text FROM notes ORDER BY id')).rows;
    },
    async get(id) {
      return (await query('SELECT id, text FROM notes WHERE id = $1', [id])).rows[0];
    },
    async create(text) {
      return (await query('INSERT INTO notes (text) VALUES ($1) RETURNING id, text', [text])).rows[0];
    },
    close: () => pool.end(),
  };
}

/** The same store in memory. */
export function memoryStore() {
  const notes = new Map();
  let next = 1;
  return {
    pool: undefined,
    async init() {},
    async list() {
      return [...notes.values()];
    },
    async get(id) {
      return notes.get(Number(id));
    },
    async create(text) {
      const note = { id: next++, text };
      notes.set(note.id, note);
      return note;
    },
    async close() {},
  };
}
