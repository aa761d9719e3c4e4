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
}

/** The probe's one request in the pool's queue, then its query on the connection lent. */
interface Attempt {
  /** Fulfilled when the query completes; rejected when it fails, is cut, or no connection comes. */
  readonly done: Promise<void>;
  /** Cuts the query if it runs (its connection is closed); a request still queued stays queued. */
  cut(reason: Error): void;
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

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * A check that runs `query` on a connection a pool lends, and tells a busy pool from a dead database.
 *
 * Only a completed query of the check's own is evidence the database answers: a pool that frees and
 * lends connections proves nothing (a client-side query timeout frees them, whole, from a hung
 * server). The check keeps at most one request in the pool's queue, and runs its query on the
 * connection that request gets, whether a run still waits for it or not (bounded by
 * `stalledAfterMs`, and by the signal of a run waiting for it).
 *
 * While every connection is lent to the app or promised to its queued requests (the pool at its
 * limit), a run does not wait behind the app's queries — it would time out there and fail readiness
 * on a healthy database: it makes sure the request is queued and warns (busy, still ready), until
 * the check has been trying for `stalledAfterMs` without a query of its own completing; then it
 * fails (a hung server holds every connection). The texts stay the same run after run (the health
 * log writes each new one); the time the check has been trying is the result's `observedValue`.
 */
export function pooledProbe<C>(pool: PoolLender<C>, stalledAfterMs: number): HealthCheck {
  /** When the check started trying since its query last completed; `undefined` right after one did. */
  let tryingSince: number | undefined;
  /** Why the last attempt failed, since a query last completed. */
  let lastError: Error | undefined;
  let current: Attempt | undefined;

  /** The attempt under way, or a new one, started by a run that began `now`. */
  const attempt = (now: number): Attempt => {
    if (current !== undefined) return current;
    tryingSince ??= now;
    const cutter = new AbortController();
    let querying = false;
    const done = (async () => {
      const connection = await pool.lend();
      querying = true;
      // No run may be left waiting for it (a run that gave up, or a busy pool's): without a bound
      // of its own, a query hung on the server would hold the pool's slot for good.
      const timer = setTimeout(
        () =>
          cutter.abort(
            new DOMException(
              `the check's query did not complete within stalledAfterMs (${stalledAfterMs} ms)`,
              'TimeoutError',
            ),
          ),
        stalledAfterMs,
      );
      timer.unref?.();
      try {
        await onLoan(connection, pool, cutter.signal);
      } finally {
        clearTimeout(timer);
      }
    })();
    const started: Attempt = {
      done,
      cut: (reason) => {
        if (querying) cutter.abort(reason);
      },
    };
    current = started;
    done.then(
      () => {
        current = undefined;
        tryingSince = undefined;
        lastError = undefined;
      },
      (error: unknown) => {
        current = undefined;
        lastError = asError(error);
      },
    );
    return started;
  };

  return async (signal) => {
    const started = performance.now();
    const occupancy = pool.occupancy();
    if (isSaturated(occupancy)) {
      attempt(started);
      const trying = round(started - (tryingSince ?? started));
      const full = `all ${occupancy.max} connections in use or promised`;
      if (trying <= stalledAfterMs) {
        return {
          status: 'warn',
          output: `pool busy: ${full}`,
          observedValue: trying,
          observedUnit: 'ms',
        } satisfies HealthCheckResult;
      }
      const last = lastError === undefined ? '' : `; the last one: ${lastError.message}`;
      return {
        status: 'fail',
        output: `pool stalled: ${full}, and no query of the check completed within stalledAfterMs (${stalledAfterMs} ms)${last}`,
        observedValue: trying,
        observedUnit: 'ms',
      } satisfies HealthCheckResult;
    }
    await within(attempt(started), signal);
    return { status: 'pass', observedValue: round(performance.now() - started), observedUnit: 'ms' };
  };
}

/**
 * Waits for `attempt` until `signal` aborts; then cuts its query if it runs (a request still queued
 * stays, so that the check never has more than one there), and rejects with the signal's reason.
 */
function within(attempt: Attempt, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      const reason = abortReason(signal);
      attempt.cut(reason);
      reject(reason);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    attempt.done.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Runs the query on a lent connection, and gives it back: whole when the query succeeds; closed when
 * it fails, or when `signal` aborts while it runs (settling at once: a query hung on a dead server
 * may not end before the server does).
 */
function onLoan<C>(connection: C, pool: PoolLender<C>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let returned = false;
    const giveBackOnce = (broken: Error | undefined) => {
      if (returned) return false;
      returned = true;
      signal.removeEventListener('abort', onAbort);
      pool.giveBack(connection, broken);
      return true;
    };
    const onAbort = () => {
      const reason = abortReason(signal);
      if (giveBackOnce(reason)) reject(reason);
    };
    if (signal.aborted) {
      giveBackOnce(undefined); // lent as the check gave up: it ran nothing, and is whole
      reject(abortReason(signal));
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    let querying: PromiseLike<unknown>;
    try {
      querying = pool.query(connection);
    } catch (error) {
      querying = Promise.reject(error);
    }
    Promise.resolve(querying).then(
      () => {
        if (giveBackOnce(undefined)) resolve();
      },
      (error: unknown) => {
        // As the pools' own `query()` do: a connection whose query failed is not lent again. A
        // query cut before has been answered already, its connection closed.
        if (giveBackOnce(asError(error))) reject(error);
      },
    );
  });
}
