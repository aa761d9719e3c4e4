import { describeValue } from '../../config/parse.js';
import { InvalidArgumentError } from '../../errors.js';
import type { HealthCheck } from '../types.js';

/** Options of {@link httpProbe}. */
export interface HttpProbeOptions {
  /** The URL to GET. */
  url: string;
  /**
   * Statuses that pass.
   * @default any 2xx or 3xx
   */
  expectStatus?: number | readonly number[];
  /** Headers of the request (an API key: a URL may carry no credentials, `fetch` refuses them). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Passes when a GET of `url` answers an expected status; reports the latency in ms. Its failures name
 * the URL without its query string, which may carry a key.
 *
 * @throws InvalidArgumentError (`ARK_ARGUMENT_INVALID`) when `url` is not an absolute http(s) URL, or
 * carries credentials (`user:password@`).
 */
export function httpProbe(options: HttpProbeOptions): HealthCheck {
  const url = probeUrl(options.url);
  const shown = `${url.origin}${url.pathname}`;
  const expected = options.expectStatus;
  const accepts = (status: number) =>
    expected === undefined
      ? status >= 200 && status < 400
      : Array.isArray(expected)
        ? expected.includes(status)
        : status === expected;
  const init: RequestInit = options.headers === undefined ? {} : { headers: { ...options.headers } };
  return async (signal) => {
    const started = performance.now();
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal, redirect: 'manual' });
      await response.arrayBuffer();
    } catch (error) {
      // The check's own timeout says what it is; fetch's "fetch failed" names neither the URL nor why.
      if (signal.aborted) throw error;
      throw new Error(`GET ${shown} failed: ${fetchFailure(error)}`, { cause: error });
    }
    if (!accepts(response.status)) throw new Error(`GET ${shown} answered ${response.status}`);
    return { status: 'pass', observedValue: Math.round(performance.now() - started), observedUnit: 'ms' };
  };
}

/**
 * Why a fetch failed: its cause's message (`connect ECONNREFUSED 10.0.0.5:8080`), else its own. A
 * host with IPv6 and IPv4 addresses that all failed gives an `AggregateError` without a message:
 * its errors' messages then.
 *
 * @example
 * ```ts
 * fetchFailure(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 10.0.0.5:8080') }));
 * // 'connect ECONNREFUSED 10.0.0.5:8080'
 * ```
 */
export function fetchFailure(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const reason = cause instanceof Error ? cause : error instanceof Error ? error : undefined;
  if (reason === undefined) return String(error);
  if (reason.message !== '') return reason.message;
  if (reason instanceof AggregateError) {
    const messages = reason.errors.map((each: unknown) =>
      each instanceof Error ? each.message : String(each),
    );
    if (messages.length > 0) return messages.join('; ');
  }
  const { code } = reason as { code?: unknown };
  return code === undefined ? reason.name : String(code);
}

function probeUrl(value: unknown): URL {
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new InvalidArgumentError(
      `httpProbe: url must be an absolute http or https URL; received ${describeValue(value)}.`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    // `origin` never holds the credentials.
    throw new InvalidArgumentError(
      `httpProbe: url ${url.origin}${url.pathname} carries credentials, which fetch refuses; send them in the headers option.`,
    );
  }
  return url;
}
