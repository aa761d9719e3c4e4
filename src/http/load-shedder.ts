import type { ServerResponse } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Logger } from 'pino';

/** Settings of the {@link LoadShedder}, from the `loadShedding` option. */
export interface LoadShedderSettings {
  /** Shed once this many requests are in flight. */
  readonly maxInFlight: number | undefined;
  /** Shed while the longest event-loop delay of the last interval is above this (ms). */
  readonly maxEventLoopDelayMs: number | undefined;
  /** Shed while the event loop was busier than this share of the last interval (0–1). */
  readonly maxEventLoopUtilization: number | undefined;
  /** Length of one measurement interval. */
  readonly intervalMs: number;
  /** `Retry-After` of a shed response, in seconds. */
  readonly retryAfterSeconds: number;
}

/** Counts for scaling decisions: `runtime.stats()`. */
export interface LoadStats {
  /** Requests in flight now (health requests excluded). */
  readonly inFlight: number;
  /** Requests answered since start (health requests excluded, shed ones excluded). */
  readonly served: number;
  /** Requests answered 503 by load shedding since start. */
  readonly shed: number;
  /** The event loop is under pressure now (shedding on event-loop grounds). */
  readonly pressure: boolean;
  /** Open upgraded connections (WebSocket), counted apart from requests. */
  readonly upgraded: number;
}

/**
 * Load shedding: turns a request away with `503` and `Retry-After` when the instance already has as
 * many requests in flight as it may, or while its event loop is under pressure, so that a spike gets
 * fast refusals (which App Runner's proxy and clients retry elsewhere) instead of slow timeouts for
 * everyone. Event-loop pressure is measured per interval, not cumulatively, and with hysteresis: it
 * begins when the delay (or utilisation) of an interval exceeds its limit and ends only after a
 * whole interval below half the delay limit (or 0.1 under the utilisation limit), so it does not flap.
 */
export class LoadShedder {
  readonly #settings: LoadShedderSettings;
  readonly #logger: Logger | undefined;
  readonly #headers: Record<string, string>;
  readonly #body: Buffer;
  readonly #histogram: ReturnType<typeof monitorEventLoopDelay> | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  #lastUtilization = performance.eventLoopUtilization();
  #pressure = false;
  #shed = 0;

  constructor(settings: LoadShedderSettings, logger?: Logger) {
    this.#settings = settings;
    this.#logger = logger;
    // Serialised once: a refusal must cost next to nothing, it happens when the instance is busiest.
    this.#body = Buffer.from('{"status":503,"error":"Service Unavailable","reason":"overloaded"}');
    this.#headers = {
      'content-type': 'application/json',
      'content-length': String(this.#body.length),
      'retry-after': String(settings.retryAfterSeconds),
      'cache-control': 'no-store',
    };
    if (settings.maxEventLoopDelayMs !== undefined || settings.maxEventLoopUtilization !== undefined) {
      if (settings.maxEventLoopDelayMs !== undefined) {
        this.#histogram = monitorEventLoopDelay({ resolution: 10 });
        this.#histogram.enable();
      }
      this.#timer = setInterval(() => this.#measure(), settings.intervalMs);
      this.#timer.unref();
    }
  }

  /** Requests answered 503 so far. */
  get shed(): number {
    return this.#shed;
  }

  /** The event loop is under pressure now. */
  get pressure(): boolean {
    return this.#pressure;
  }

  /** True when a request arriving with `inFlight` requests already in flight must be turned away. */
  shouldShed(inFlight: number): boolean {
    const max = this.#settings.maxInFlight;
    return this.#pressure || (max !== undefined && inFlight >= max);
  }

  /** Answers `res` with the pre-serialised 503. */
  reject(res: ServerResponse): void {
    this.#shed++;
    res.writeHead(503, this.#headers);
    res.end(this.#body);
  }

  /** Stops measuring. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#histogram?.disable();
  }

  #measure(): void {
    const { maxEventLoopDelayMs, maxEventLoopUtilization } = this.#settings;
    let over = false;
    let calm = true;
    let delayMs: number | undefined;
    let utilization: number | undefined;
    if (this.#histogram !== undefined && maxEventLoopDelayMs !== undefined) {
      delayMs = this.#histogram.max / 1e6;
      this.#histogram.reset();
      if (delayMs > maxEventLoopDelayMs) over = true;
      if (delayMs > maxEventLoopDelayMs / 2) calm = false;
    }
    if (maxEventLoopUtilization !== undefined) {
      const now = performance.eventLoopUtilization();
      utilization = performance.eventLoopUtilization(now, this.#lastUtilization).utilization;
      this.#lastUtilization = now;
      if (utilization > maxEventLoopUtilization) over = true;
      if (utilization > maxEventLoopUtilization - 0.1) calm = false;
    }
    if (!this.#pressure && over) {
      this.#pressure = true;
      this.#logger?.warn(
        { eventLoopDelayMs: delayMs, eventLoopUtilization: utilization },
        'event loop under pressure: shedding load',
      );
    } else if (this.#pressure && calm) {
      this.#pressure = false;
      this.#logger?.info(
        { eventLoopDelayMs: delayMs, eventLoopUtilization: utilization, shed: this.#shed },
        'event loop recovered: no longer shedding',
      );
    }
  }
}
