// apprunner-kit with a PostgreSQL readiness probe; GET /queries says how many probe queries ran.
// NAIVE=1 instead answers /readyz with a query on every request, as hand-written endpoints often do.
import { bootstrapAppRunner, postgresProbe } from 'apprunner-kit';
import pg from 'pg';

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: 4,
  connectionTimeoutMillis: 1_000,
});
pool.on('error', () => {});
let queries = 0;
const counted = {
  query: (text) => {
    queries++;
    return pool.query(text);
  },
};

const naive = process.env.NAIVE === '1';
const runtime = await bootstrapAppRunner({
  logging: { requests: false },
  health: naive ? { readinessPath: '/kit-readyz' } : {},
  app: (req, res) => {
    if (req.url === '/queries') return res.end(String(queries));
    if (naive && req.url === '/readyz') {
      counted.query('SELECT 1').then(
        () => res.end('{"status":"pass"}'),
        () => {
          res.statusCode = 503;
          res.end('{"status":"fail"}');
        },
      );
      return;
    }
    res.statusCode = 404;
    res.end();
  },
});
if (!naive) runtime.health.register('postgres', postgresProbe(counted), { componentType: 'datastore' });
runtime.onShutdown('pool', () => pool.end());
