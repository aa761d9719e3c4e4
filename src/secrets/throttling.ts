import { setTimeout as sleep } from 'node:timers/promises';

/** The error codes AWS services answer when a request-rate quota is exceeded. */
const throttlingCodes: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

/** What the kit reads of an error, and of each error it wraps (`cause`). */
interface ErrorLabels {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly awsCode?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly cause?: unknown;
}

/** True when `test` holds for `error` or an error it wraps (a few `cause`s deep). */
function anyInCauses(error: unknown, test: (labels: ErrorLabels) => boolean): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    if (test(e as ErrorLabels)) return true;
    e = (e as ErrorLabels).cause;
  }
  return false;
}

/** True when `error` (an AWS SDK error, or the kit's error wrapping one) says AWS throttled the call. */
export function isThrottling(error: unknown): boolean {
  return anyInCauses(
    error,
    ({ name, awsCode, $metadata }) =>
      (typeof awsCode === 'string' && throttlingCodes.has(awsCode)) ||
      (typeof name === 'string' && throttlingCodes.has(name)) ||
      $metadata?.httpStatusCode === 429,
  );
}

/** Server errors AWS services name (their HTTP status is 5xx too). */
const serverErrorNames: ReadonlySet<string> = new Set([
  'InternalServerError',
  'InternalServiceError',
  'InternalServiceErrorException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

/** The codes of a connection that failed or was refused (shared with the errors' hints). */
export const failedConnectionCodes: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Beside those: a write on a closed connection, and an attempt that timed out (the SDK's own). */
const networkCodes: ReadonlySet<string> = new Set([
  ...failedConnectionCodes,
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/**
 * True when another call may well succeed where `error` failed: AWS throttled it, answered a server
 * error (5xx), or the connection failed or timed out; never for an error about the value itself (not
 * found, access denied) nor for the kit's own abort (the start-up budget ran out).
 */
export function isTransient(error: unknown): boolean {
  return (
    isThrottling(error) ||
    anyInCauses(error, ({ name, code, awsCode, $metadata }) => {
      const status = $metadata?.httpStatusCode;
      if (typeof status === 'number' && status >= 500) return true;
      return [name, code, awsCode].some(
        (label) => typeof label === 'string' && (serverErrorNames.has(label) || networkCodes.has(label)),
      );
    })
  );
}

/** How {@link retryTransient} backs off. */
export interface ThrottleRetryOptions {
  /** Aborts the waiting (the start-up budget ran out). */
  readonly signal: AbortSignal;
  /** `performance.now()` past which no retry starts: the start-up budget's end. */
  readonly deadline: number;
  /** The first backoff's ceiling. @default 250 */
  readonly baseMs?: number;
  /** The largest backoff ceiling. @default 5000 */
  readonly capMs?: number;
  /** A number in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Called before each retry, with the wait chosen and the error retried. */
  readonly onRetry?: (waitMs: number, error: unknown) => void;
}

/**
 * Waits before retry number `attempt + 1` of a throttled call, with full-jitter exponential backoff —
 * a wait drawn uniformly from 0 to `min(cap, base × 2^attempt)`, shortened to end one base interval
 * before the deadline — and resolves `true`; resolves `false` at once when less than one base
 * interval is left, or the signal aborted. Full
 * jitter spreads a fleet's retries over the whole window, where equal waits would bring every
 * instance back at the same moment to be throttled again (AWS Architecture Blog, "Exponential
 * Backoff And Jitter").
 */
export async function waitToRetry(
  attempt: number,
  options: ThrottleRetryOptions,
  error?: unknown,
): Promise<boolean> {
  if (options.signal.aborted) return false;
  const base = options.baseMs ?? 250;
  const ceiling = Math.min(options.capMs ?? 5_000, base * 2 ** attempt);
  // A draw past the deadline is shortened, keeping one base interval for the call itself; with less
  // than that left, no retry is worth starting.
  const room = options.deadline - performance.now() - base;
  if (room <= 0) return false;
  const wait = Math.min((options.random ?? Math.random)() * ceiling, room);
  options.onRetry?.(wait, error);
  try {
    await sleep(wait, undefined, { signal: options.signal });
    return true;
  } catch {
    return false;
  }
}

/**
 * Calls `fn` until it succeeds, retrying only a transient failure ({@link isTransient}: throttling, a
 * server error, a failed connection) after {@link waitToRetry}, for as long as a retry can still
 * start before the deadline. Any other error, or a transient one once the deadline is too close, is
 * thrown as it is.
 */
export async function retryTransient<T>(fn: () => Promise<T>, options: ThrottleRetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isTransient(error) || !(await waitToRetry(attempt, options, error))) throw error;
    }
  }
}

/**
 * Calls `fetchMany` for `keys`, then again for those whose result is a transient error
 * ({@link isTransient}), with the backoff of {@link waitToRetry}, until none is or the deadline is too
 * close: a batch call reports its errors per key, and only the transient ones are worth another call. Resolves with the
 * last result of every key (an error when the call failed as a whole), kept in `results` as they
 * come, so that a caller whose budget ran out first still has them.
 */
export async function fetchManyRetrying<K, V>(
  keys: readonly K[],
  fetchMany: (keys: readonly K[]) => Promise<ReadonlyMap<K, V | Error>>,
  options: ThrottleRetryOptions,
  results: Map<K, V | Error> = new Map(),
): Promise<Map<K, V | Error>> {
  let pending = keys;
  for (let attempt = 0; ; attempt++) {
    let fetched: ReadonlyMap<K, V | Error> | undefined;
    let failure: Error | undefined;
    try {
      fetched = await fetchMany(pending);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    const again: K[] = [];
    let retried: Error | undefined;
    for (const key of pending) {
      const result = failure ?? fetched?.get(key);
      if (result === undefined) continue;
      results.set(key, result);
      if (result instanceof Error && isTransient(result)) {
        again.push(key);
        retried = result;
      }
    }
    if (again.length === 0 || !(await waitToRetry(attempt, options, retried))) return results;
    pending = again;
  }
}
