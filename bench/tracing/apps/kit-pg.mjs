// apprunner-kit in front of a handler that runs one PostgreSQL query (`SELECT 1`, a pooled
// connection) per request; tracing from the environment. Run with `--import apprunner-kit/register`
// the query gets its own span, a child of the request's.
import { bootstrapAppRunner } from 'apprunner-kit';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
const body = JSON.stringify({ hello: 'world' });

await bootstrapAppRunner({
  service: 'bench',
  logging: { requests: false },
  app: (_req, res) => {
    pool.query('SELECT 1').then(
      () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
      () => {
        res.statusCode = 500;
        res.end();
      },
    );
  },
});
