import { InvalidArgumentError } from '../../errors.js';
import type { HealthCheck } from '../types.js';
import { type PoolOccupancy, pooledProbe } from './pooled.js';

/** What the PostgreSQL probe needs: a `pg` Pool or Client (or anything with `query(text)`). */
export interface QueryableClient {
  query(text: string): PromiseLike<unknown>;
}

/** What the Redis probe needs: an ioredis or node-redis client (anything with `ping()`). */
export interface PingableClient {
  ping(): PromiseLike<unknown>;
}

/** Options of {@link postgresProbe} and {@link mysqlProbe}. */
export interface DatabaseProbeOptions {
  /**
   * The query each run sends.
   * @default 'SELECT 1'
   */
  query?: string;
  /**
   * On a pool whose connections are all lent to the app's own queries: the check warns (busy, still
   * ready) without waiting behind them, and keeps one request in the pool's queue to run its query on
   * the connection it gets; it fails once it has been trying this long without that query completing
   * (a hung server: connections the app's query timeouts free prove nothing). Also bounds that query.
   * @default 10000
   */
  stalledAfterMs?: number;
}

/** A `pg` Pool (pg-pool): it lends a client, given back by `release(error)`, which destroys it. */
interface LendingPool {
  connect(): PromiseLike<{ query(text: string): PromiseLike<unknown>; release(error?: Error): void }>;
  readonly totalCount: number;
  readonly idleCount?: number;
  readonly waitingCount?: number;
  readonly options?: { readonly max?: unknown };
}

/** A `mysql2` promise pool: it lends a connection, given back by `release()` or closed by `destroy()`. */
interface MysqlPool {
  getConnection(): PromiseLike<{
    query(text: string): PromiseLike<unknown>;
    release(): void;
    destroy(): void;
  }>;
  /** The promise pool's callback pool, whose counters are its queues' lengths. */
  readonly pool?: unknown;
}

function isLendingPool(client: object): client is LendingPool {
  return typeof (client as Partial<LendingPool>).connect === 'function' && 'totalCount' in client;
}

function isMysqlPool(client: object): client is MysqlPool {
  return typeof (client as Partial<MysqlPool>).getConnection === 'function';
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

function probeOptions(probe: string, given: string | DatabaseProbeOptions): Required<DatabaseProbeOptions> {
  const { query = 'SELECT 1', stalledAfterMs = 10_000 } =
    typeof given === 'string' ? { query: given } : (given ?? {});
  if (typeof query !== 'string' || query.trim() === '') {
    throw new InvalidArgumentError(
      `${probe}: query must be a non-empty SQL string; received ${JSON.stringify(query) ?? String(query)}.`,
    );
  }
  if (typeof stalledAfterMs !== 'number' || !Number.isFinite(stalledAfterMs) || stalledAfterMs <= 0) {
    throw new InvalidArgumentError(
      `${probe}: stalledAfterMs must be a positive number of milliseconds (10000 by default); received ${String(stalledAfterMs)}.`,
    );
  }
  return { query, stalledAfterMs };
}

/** A count the pool exposes, or `undefined`. */
function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** pg-pool's counters (its public getters, and the `max` of its options). */
function pgOccupancy(pool: LendingPool): PoolOccupancy | undefined {
  const total = count(pool.totalCount);
  const idle = count(pool.idleCount);
  const max = count(pool.options?.max);
  if (total === undefined || idle === undefined || max === undefined) return undefined;
  return { total, idle, waiting: count(pool.waitingCount) ?? 0, max };
}

/** The length of one of mysql2's queues (a `denque`), or `undefined`. */
function queueLength(queue: unknown): number | undefined {
  return typeof queue === 'object' && queue !== null
    ? count((queue as { length?: unknown }).length)
    : undefined;
}

/**
 * mysql2's counters: it has no public ones, so the lengths of its pool's queues (the ones its own
 * idle-connection reaper reads), and `config.connectionLimit`; `undefined` if a version lacks them.
 */
function mysqlOccupancy(pool: MysqlPool): PoolOccupancy | undefined {
  const core = (typeof pool.pool === 'object' && pool.pool !== null ? pool.pool : pool) as {
    _allConnections?: unknown;
    _freeConnections?: unknown;
    _connectionQueue?: unknown;
    config?: { connectionLimit?: unknown };
  };
  const total = queueLength(core._allConnections);
  const idle = queueLength(core._freeConnections);
  const max = count(core.config?.connectionLimit);
  if (total === undefined || idle === undefined || max === undefined) return undefined;
  return { total, idle, waiting: queueLength(core._connectionQueue) ?? 0, max };
}

/**
 * Runs `SELECT 1` (or `query`) on a `pg` Pool or Client; reports the round trip in ms.
 *
 * On a Pool, the query runs on a client it lends, closed if the check times out (a hung query holds
 * no slot of the pool); give the pool a `connectionTimeoutMillis` too, so that opening a client is
 * bounded. While the app's own queries hold every client of the pool, the check does not queue
 * behind them: it warns (busy, still ready), queues one request to run its query on the client it
 * gets, and fails once that query has not completed within `stalledAfterMs`.
 *
 * @param queryOrOptions the query, or {@link DatabaseProbeOptions}.
 * @throws InvalidArgumentError (`ARK_ARGUMENT_INVALID`) for an empty query or a `stalledAfterMs`
 * that is not a positive number.
 * @example
 * ```ts
 * runtime.health.register('postgres', postgresProbe(pool), { componentType: 'datastore' });
 * ```
 */
export function postgresProbe(
  client: QueryableClient,
  queryOrOptions: string | DatabaseProbeOptions = {},
): HealthCheck {
  const { query, stalledAfterMs } = probeOptions('postgresProbe', queryOrOptions);
  if (isLendingPool(client)) {
    return pooledProbe(
      {
        lend: () => client.connect(),
        giveBack: (lent, broken) => lent.release(broken),
        query: (lent) => lent.query(query),
        occupancy: () => pgOccupancy(client),
      },
      stalledAfterMs,
    );
  }
  return timed(() => client.query(query));
}

/**
 * Runs `SELECT 1` (or `query`) on a `mysql2` pool or connection (a callback one through its
 * `promise()`). On a pool, the query runs on a connection it lends, destroyed if the check times out;
 * while the app's own queries hold every connection of the pool, the check warns rather than queue
 * behind them, as {@link postgresProbe} does.
 *
 * @param queryOrOptions the query, or {@link DatabaseProbeOptions}.
 * @throws InvalidArgumentError (`ARK_ARGUMENT_INVALID`) for an empty query or a `stalledAfterMs`
 * that is not a positive number.
 * @example
 * ```ts
 * runtime.health.register('mysql', mysqlProbe(pool), { componentType: 'datastore' });
 * ```
 */
export function mysqlProbe(
  given: QueryableClient,
  queryOrOptions: string | DatabaseProbeOptions = {},
): HealthCheck {
  const { query, stalledAfterMs } = probeOptions('mysqlProbe', queryOrOptions);
  // A callback pool or connection: its promise wrapper (whose `query` and `getConnection` return
  // promises, where the callback ones would throw later without a callback).
  const promised = (given as { promise?: unknown }).promise;
  const client = typeof promised === 'function' ? (promised.call(given) as QueryableClient) : given;
  if (isMysqlPool(client)) {
    return pooledProbe(
      {
        lend: () => client.getConnection(),
        giveBack: (lent, broken) => (broken === undefined ? lent.release() : lent.destroy()),
        query: (lent) => lent.query(query),
        occupancy: () => mysqlOccupancy(client),
      },
      stalledAfterMs,
    );
  }
  return timed(() => client.query(query));
}

/** Sends `PING` through an ioredis or node-redis client; reports the round trip in ms. */
export function redisProbe(client: PingableClient): HealthCheck {
  return timed(() => client.ping());
}
