import { performance } from 'node:perf_hooks';
import type { HealthCheck, HealthCheckResult } from '../types.js';

/** How full a pool is, as it says. */
export interface PoolOccupancy {
  /** Connections open or opening: lent, idle, connecting. */
  readonly total: number;
  readonly idle: number;
  /** Requests queued for a connection. */
  readonly waiting: number;
  /** The most it opens; 0 or less: no limit. */
  readonly max: number;
}

/** What {@link pooledProbe} needs of a driver's pool. */
export interface PoolLender<C> {
  lend(): PromiseLike<C>;
  /** Gives `connection` back: whole, or closed when `broken` (its query failed or was cut). */
  giveBack(connection: C, broken: Error | undefined): void;
  query(connection: C): PromiseLike<unknown>;
  /** How full it is; `undefined` when it does not say (the check then always borrows). */
  occupancy(): PoolOccupancy | undefined;
  /** Calls `onFreed` whenever the pool says a connection came back whole or a new one opened. */
  watch(onFreed: () => void): void;
}

/** The probe's one request in the pool's queue, and the run waiting for it (none once abandoned). */
interface Loan<C> {
  taker: { resolve(connection: C): void; reject(error: unknown): void } | undefined;
}

/**
 * Whether a request for a connection would wait for one to be freed: the pool may open no more, and
 * its idle ones (pg-pool may hold some for a tick) are promised to the requests queued already.
 */
function isSaturated(occupancy: PoolOccupancy | undefined): occupancy is PoolOccupancy {
  return (
    occupancy !== undefined &&
    occupancy.max > 0 &&
    occupancy.total >= occupancy.max &&
    occupancy.waiting >= occupancy.idle
  );
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('health check aborted');
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * A check that runs `query` on a connection a pool lends, and tells a busy pool from a dead database.
 *
 * While every connection is lent to the app or promised to its queued requests (the pool at its
 * limit), the check does not queue behind the app's queries — it would time out behind them and fail
 * readiness on a healthy database: it warns (busy, still ready), as long as a connection was freed
 * within `stalledAfterMs`,
 * and fails once none has been for that long (a hung server holds every connection). Evidence that
 * connections are freed: the pool's own events, and one request the check keeps in its queue, given
 * back the moment it is served. The check never has more than one request in the queue: a run that
 * gives up (its signal aborts) leaves it, and the connection it later gets is given back at once.
 */
export function pooledProbe<C>(pool: PoolLender<C>, stalledAfterMs: number): HealthCheck {
  let lastFreedAt = Number.NEGATIVE_INFINITY;
  /** When the runs first saw the pool saturated, since they last saw it not. */
  let busySince: number | undefined;
  let loan: Loan<C> | undefined;
  const freed = () => {
    lastFreedAt = performance.now();
  };
  pool.watch(freed);

  /** Makes sure the probe has a request in the queue; hands its connection to `taker`, if any. */
  const request = (taker?: Loan<C>['taker']): void => {
    if (loan !== undefined) {
      if (taker !== undefined) loan.taker = taker;
      return;
    }
    const current: Loan<C> = { taker };
    loan = current;
    let lending: PromiseLike<C>;
    try {
      lending = pool.lend();
    } catch (error) {
      lending = Promise.reject(error);
    }
    Promise.resolve(lending).then(
      (connection) => {
        loan = undefined;
        const { taker: waiting } = current;
        if (waiting !== undefined) {
          waiting.resolve(connection);
          return;
        }
        // Nobody waits for it (a watch, or a run that gave up): it ran nothing and goes back whole,
        // to the next request in the queue; being served is the evidence the pool moves.
        freed();
        pool.giveBack(connection, undefined);
      },
      (error: unknown) => {
        loan = undefined;
        current.taker?.reject(error); // an abandoned request's error has no one left to tell
      },
    );
  };

  const borrow = (signal: AbortSignal): Promise<C> =>
    new Promise<C>((resolve, reject) => {
      if (signal.aborted) {
        reject(abortReason(signal));
        return;
      }
      const taker: NonNullable<Loan<C>['taker']> = {
        resolve: (connection) => {
          signal.removeEventListener('abort', onAbort);
          resolve(connection);
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        if (loan?.taker === taker) loan.taker = undefined;
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      request(taker);
    });

  return async (signal) => {
    const started = performance.now();
    const occupancy = pool.occupancy();
    if (isSaturated(occupancy)) {
      busySince ??= started;
      request();
      const since = Math.max(lastFreedAt, busySince);
      const full = `all ${occupancy.total} connections of the pool in use or promised, ${occupancy.waiting} ${occupancy.waiting === 1 ? 'request' : 'requests'} waiting`;
      if (started - since <= stalledAfterMs) {
        const lastFreed =
          lastFreedAt === Number.NEGATIVE_INFINITY
            ? ''
            : `, one freed ${round(started - lastFreedAt)} ms ago`;
        return {
          status: 'warn',
          output: `pool busy: ${full}${lastFreed}; the database was not queried`,
        } satisfies HealthCheckResult;
      }
      return {
        status: 'fail',
        output: `pool stalled: ${full}, none freed for ${round(started - since)} ms (stalledAfterMs: ${stalledAfterMs})`,
      } satisfies HealthCheckResult;
    }
    busySince = undefined;
    const connection = await borrow(signal);
    await onLoan(connection, pool, signal);
    freed();
    return { status: 'pass', observedValue: round(performance.now() - started), observedUnit: 'ms' };
  };
}

/**
 * Runs the query on a lent connection, and gives it back: whole when the query succeeds; closed when
 * it fails, or when the check's signal aborts while it runs (a query hung on a dead server would
 * otherwise hold the pool's slot for good).
 */
async function onLoan<C>(connection: C, pool: PoolLender<C>, signal: AbortSignal): Promise<void> {
  let returned = false;
  const giveBackOnce = (broken: Error | undefined) => {
    if (returned) return;
    returned = true;
    signal.removeEventListener('abort', onAbort);
    pool.giveBack(connection, broken);
  };
  const onAbort = () => giveBackOnce(abortReason(signal));
  if (signal.aborted) {
    giveBackOnce(undefined); // lent as the check gave up: it ran nothing, and is whole
    throw abortReason(signal);
  }
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await pool.query(connection);
    giveBackOnce(undefined);
  } catch (error) {
    // As the pools' own `query()` does: a connection whose query failed is not lent again.
    giveBackOnce(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}
