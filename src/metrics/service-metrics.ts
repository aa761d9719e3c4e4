import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type SecretFetchFailedMessage, secretFetchFailedChannelName } from '../secrets/secret-cache.js';
import type { EmfGroup, EmfMetric } from './emf-lines.js';
import type { MetricSource } from './source.js';

/** What service metrics read of the request metrics and the load shedder. */
export interface ServiceMetricsInputs {
  /** The peak of requests in flight since the last call; resets it. */
  readonly takePeak: () => number;
}

/** What service metrics read of the load shedder. */
export interface ShedCounter {
  readonly shed: number;
}

/**
 * The instance-wide metrics, with only the default dimensions: `InFlightPeak` (most requests in
 * flight at once in the interval), `ShedRequests` (answered 503 by load shedding; only with
 * `loadShedding` on) and `SecretRefreshFailures` (background refreshes of a cached secret that
 * failed). Each is written only for intervals where it is above zero, or, for `ShedRequests`,
 * whenever load shedding is on: an idle instance adds no datapoints (and no cost). Secret failures
 * come over a diagnostics channel, which is process-wide: with two runtimes in one process (tests),
 * each counts the failures of both.
 */
export class ServiceMetrics implements MetricSource {
  readonly #dimensions: Readonly<Record<string, string>>;
  readonly #inputs: ServiceMetricsInputs;
  #shedder: ShedCounter | undefined;
  #shedSeen = 0;
  #secretFailures = 0;
  #subscribed = false;

  constructor(dimensions: Readonly<Record<string, string>>, inputs: ServiceMetricsInputs) {
    this.#dimensions = dimensions;
    this.#inputs = inputs;
  }

  /** Counts refresh failures of the secret cache, published on a diagnostics channel. */
  subscribe(): void {
    if (this.#subscribed) return;
    this.#subscribed = true;
    subscribe(secretFetchFailedChannelName, this.#onSecretFailure);
  }

  /** Stops counting secret failures. Safe to call twice. */
  unsubscribe(): void {
    if (!this.#subscribed) return;
    this.#subscribed = false;
    unsubscribe(secretFetchFailedChannelName, this.#onSecretFailure);
  }

  /** Reads the load shedder's count from now on. */
  observeShedder(shedder: ShedCounter): void {
    this.#shedder = shedder;
    this.#shedSeen = shedder.shed;
  }

  collect(groups: EmfGroup[]): void {
    const metrics: EmfMetric[] = [];
    const peak = this.#inputs.takePeak();
    if (peak > 0) metrics.push({ name: 'InFlightPeak', unit: 'Count', value: peak });
    if (this.#shedder !== undefined) {
      const shed = this.#shedder.shed;
      metrics.push({ name: 'ShedRequests', unit: 'Count', value: shed - this.#shedSeen });
      this.#shedSeen = shed;
    }
    if (this.#secretFailures > 0) {
      metrics.push({ name: 'SecretRefreshFailures', unit: 'Count', value: this.#secretFailures });
      this.#secretFailures = 0;
    }
    if (metrics.length > 0) groups.push({ dimensions: this.#dimensions, metrics });
  }

  readonly #onSecretFailure = (message: unknown): void => {
    if ((message as SecretFetchFailedMessage | undefined)?.cached === true) this.#secretFailures++;
  };
}
