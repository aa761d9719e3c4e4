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
}

/** Passes when a GET of `url` answers an expected status; reports the latency in ms. */
export function httpProbe(options: HttpProbeOptions): HealthCheck {
  const expected = options.expectStatus;
  const accepts = (status: number) =>
    expected === undefined
      ? status >= 200 && status < 400
      : Array.isArray(expected)
        ? expected.includes(status)
        : status === expected;
  return async (signal) => {
    const started = performance.now();
    const response = await fetch(options.url, { signal, redirect: 'manual' });
    await response.arrayBuffer();
    if (!accepts(response.status)) throw new Error(`GET ${options.url} answered ${response.status}`);
    return { status: 'pass', observedValue: Math.round(performance.now() - started), observedUnit: 'ms' };
  };
}
