import type { HealthCheck } from '../types.js';

/** What the PostgreSQL probe needs: a `pg` Pool or Client (or anything with `query(text)`). */
export interface QueryableClient {
  query(text: string): PromiseLike<unknown>;
}

/** What the Redis probe needs: an ioredis or node-redis client (anything with `ping()`). */
export interface PingableClient {
  ping(): PromiseLike<unknown>;
}

function timed(run: () => PromiseLike<unknown>): HealthCheck {
  return async () => {
    const started = performance.now();
    await run();
    return {
      status: 'pass',
      observedValue: Math.round((performance.now() - started) * 10) / 10,
      observedUnit: 'ms',
    };
  };
}

/**
 * Runs `SELECT 1` (or `query`) on a `pg` Pool or Client; reports the round trip in ms. Give the pool a
 * `connectionTimeoutMillis`, so that a dead server does not hold a pool slot for long.
 *
 * @example
 * ```ts
 * runtime.health.register('postgres', postgresProbe(pool), { componentType: 'datastore' });
 * ```
 */
export function postgresProbe(client: QueryableClient, query = 'SELECT 1'): HealthCheck {
  return timed(() => client.query(query));
}

/**
 * Runs `SELECT 1` on a `mysql2` promise pool or connection (for a callback pool, pass `pool.promise()`).
 */
export function mysqlProbe(client: QueryableClient, query = 'SELECT 1'): HealthCheck {
  return timed(() => client.query(query));
}

/** Sends `PING` through an ioredis or node-redis client; reports the round trip in ms. */
export function redisProbe(client: PingableClient): HealthCheck {
  return timed(() => client.ping());
}
