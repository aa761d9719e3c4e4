import type { HealthCheck } from '../types.js';

/** What the PostgreSQL probe needs: a `pg` Pool or Client (or anything with `query(text)`). */
export interface QueryableClient {
  query(text: string): PromiseLike<unknown>;
}

/** What the Redis probe needs: an ioredis or node-redis client (anything with `ping()`). */
export interface PingableClient {
  ping(): PromiseLike<unknown>;
}

/** A `pg` Pool (pg-pool): it lends a client, given back by `release(error)`, which destroys it. */
interface LendingPool {
  connect(): PromiseLike<{ query(text: string): PromiseLike<unknown>; release(error?: Error): void }>;
  readonly totalCount: number;
}

/** A `mysql2` promise pool: it lends a connection, given back by `release()` or closed by `destroy()`. */
interface MysqlPool {
  getConnection(): PromiseLike<{
    query(text: string): PromiseLike<unknown>;
    release(): void;
    destroy(): void;
  }>;
}

function isLendingPool(client: object): client is LendingPool {
  return typeof (client as Partial<LendingPool>).connect === 'function' && 'totalCount' in client;
}

function isMysqlPool(client: object): client is MysqlPool {
  return typeof (client as Partial<MysqlPool>).getConnection === 'function';
}

function timed(run: (signal: AbortSignal) => PromiseLike<unknown>): HealthCheck {
  return async (signal) => {
    const started = performance.now();
    await run(signal);
    return {
      status: 'pass',
      observedValue: Math.round((performance.now() - started) * 10) / 10,
      observedUnit: 'ms',
    };
  };
}

/**
 * Runs `work` on a connection borrowed from a pool, and gives it back: whole when the work succeeds
 * or never started (the pool lent it after the check gave up); closed when it fails, or when the
 * check's signal aborts while it runs (a query hung on a dead server would otherwise hold the pool's
 * slot for good).
 */
async function onLoan<C>(
  borrowing: PromiseLike<C>,
  work: (connection: C) => PromiseLike<unknown>,
  giveBack: (connection: C, broken: Error | undefined) => void,
  signal: AbortSignal,
): Promise<unknown> {
  const connection = await borrowing;
  if (signal.aborted) {
    giveBack(connection, undefined); // lent after the check gave up: it ran nothing, and is whole
    throw signal.reason;
  }
  let returned = false;
  const giveBackOnce = (broken: Error | undefined) => {
    if (returned) return;
    returned = true;
    signal.removeEventListener('abort', onAbort);
    giveBack(connection, broken);
  };
  const onAbort = () => giveBackOnce(abortReason(signal));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await work(connection);
    giveBackOnce(undefined);
    return result;
  } catch (error) {
    // As the pools' own `query()` does: a connection whose query failed is not lent again.
    giveBackOnce(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('health check aborted');
}

/**
 * Runs `SELECT 1` (or `query`) on a `pg` Pool or Client; reports the round trip in ms. On a Pool, the
 * query runs on a client it lends, closed if the check times out (a hung query holds no slot of the
 * pool); give the pool a `connectionTimeoutMillis` too, so that waiting for a client is bounded.
 *
 * @example
 * ```ts
 * runtime.health.register('postgres', postgresProbe(pool), { componentType: 'datastore' });
 * ```
 */
export function postgresProbe(client: QueryableClient, query = 'SELECT 1'): HealthCheck {
  if (isLendingPool(client)) {
    return timed((signal) =>
      onLoan(
        client.connect(),
        (lent) => lent.query(query),
        (lent, broken) => lent.release(broken),
        signal,
      ),
    );
  }
  return timed(() => client.query(query));
}

/**
 * Runs `SELECT 1` on a `mysql2` pool or connection (a callback one through its `promise()`). On a
 * pool, the query runs on a connection it lends, destroyed if the check times out.
 */
export function mysqlProbe(given: QueryableClient, query = 'SELECT 1'): HealthCheck {
  // A callback pool or connection: its promise wrapper (whose `query` and `getConnection` return
  // promises, where the callback ones would throw later without a callback).
  const promised = (given as { promise?: unknown }).promise;
  const client = typeof promised === 'function' ? (promised.call(given) as QueryableClient) : given;
  if (isMysqlPool(client)) {
    return timed((signal) =>
      onLoan(
        client.getConnection(),
        (lent) => lent.query(query),
        (lent, broken) => (broken === undefined ? lent.release() : lent.destroy()),
        signal,
      ),
    );
  }
  return timed(() => client.query(query));
}

/** Sends `PING` through an ioredis or node-redis client; reports the round trip in ms. */
export function redisProbe(client: PingableClient): HealthCheck {
  return timed(() => client.ping());
}
