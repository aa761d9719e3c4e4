import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import {
  failedOnServer,
  type MutableRequestContext,
  quietSlot,
  requestDurationMs,
  uncountedSlot,
} from '../http/context.js';
import type { RequestFinishHook } from '../http/request-scope.js';
import type { EmfGroup, EmfMetric } from './emf-lines.js';
import { ValueHistogram } from './histogram.js';
import type { MetricSource } from './source.js';
import { toDimensionValue } from './validation.js';

/** The `Route` of requests the framework matched no route for, or of apps without a router. */
export const noRoute = '(none)';
/** The `Route` of requests whose route came after `metrics.maxRoutes` others. */
export const otherRoutes = 'other';

// Any other method (CONNECT, TRACE, WebDAV's) is `OTHER`: clients choose methods, and they must not
// choose how many metrics the app pays for.
const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'OTHER'] as const;

function methodIndex(method: string | undefined): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'DELETE':
      return 4;
    case 'PATCH':
      return 5;
    case 'OPTIONS':
      return 6;
    default:
      return 7;
  }
}

/** One route and method's counts for the interval, kept and reset from one interval to the next. */
interface RouteMethodRecord {
  readonly dimensions: Readonly<Record<string, string>>;
  requests: number;
  clientErrors: number;
  serverErrors: number;
  readonly latency: ValueHistogram;
}

interface RouteEntry {
  readonly route: string;
  readonly records: (RouteMethodRecord | undefined)[];
}

/** Settings of {@link RequestMetrics}. */
export interface RequestMetricsSettings {
  /** Distinct route patterns with metrics of their own; requests of later ones count under `other`. */
  readonly maxRoutes: number;
  /** The dimensions every metric carries (`Service`, `Environment`). */
  readonly dimensions: Readonly<Record<string, string>>;
}

/** What request metrics read of the request scope. */
export interface InFlightCounter {
  readonly inFlight: number;
}

/**
 * Request metrics per route pattern and method: `Requests`, `RequestLatency` (a distribution, in
 * milliseconds), `4xxStatusResponses` and `5xxStatusResponses`, aggregated in process between
 * flushes, and the peak of requests in flight. Its {@link RequestMetrics.onFinish} hook runs for
 * every request: it finds the route's record with a map lookup and an array index, and updates
 * numbers in place — records are created once per route and method and reset, not reallocated, at
 * each flush.
 */
export class RequestMetrics implements MetricSource {
  readonly #settings: RequestMetricsSettings;
  readonly #scope: InFlightCounter;
  readonly #logger: Logger | undefined;
  readonly #routes = new Map<string, RouteEntry>();
  readonly #unrouted: RouteEntry = { route: noRoute, records: [] };
  readonly #other: RouteEntry = { route: otherRoutes, records: [] };
  #overflowLogged = false;
  #peak = 0;

  constructor(settings: RequestMetricsSettings, scope: InFlightCounter, logger?: Logger) {
    this.#settings = settings;
    this.#scope = scope;
    this.#logger = logger;
  }

  /** The finish hook of the request scope. */
  readonly onFinish: RequestFinishHook = (
    context: MutableRequestContext,
    req: IncomingMessage,
    res: ServerResponse,
  ): void => {
    // The same number as the request line's durationMs (measured once per request).
    const latency = requestDurationMs(context);
    // In-flight only falls when a request finishes, so its peak is reached just before one does:
    // the count before this request's decrement (a logged health request was never counted).
    const inFlight = context[uncountedSlot] === true ? this.#scope.inFlight : this.#scope.inFlight + 1;
    if (inFlight > this.#peak) this.#peak = inFlight;
    if (context[quietSlot] === true) return; // `quietRequests`: in the peak (it was in flight), not counted
    const route = context.route;
    const entry = route === undefined ? this.#unrouted : (this.#routes.get(route) ?? this.#admit(route));
    const index = methodIndex(req.method);
    const record = entry.records[index] ?? this.#record(entry, index);
    record.requests++;
    const status = res.statusCode;
    // A response the server cut short failed, whatever status went out first (as its request line says).
    if (failedOnServer(context, res)) record.serverErrors++;
    else if (status >= 400) record.clientErrors++;
    record.latency.add(latency);
  };

  /** The most requests in flight at once since the last call (at least those in flight now); resets it. */
  takePeak(): number {
    const peak = Math.max(this.#peak, this.#scope.inFlight);
    this.#peak = 0;
    return peak;
  }

  collect(groups: EmfGroup[]): void {
    this.#collectEntry(this.#unrouted, groups);
    for (const entry of this.#routes.values()) this.#collectEntry(entry, groups);
    this.#collectEntry(this.#other, groups);
  }

  #collectEntry(entry: RouteEntry, groups: EmfGroup[]): void {
    for (const record of entry.records) {
      if (record === undefined || record.requests === 0) continue;
      const metrics: EmfMetric[] = [{ name: 'Requests', unit: 'Count', value: record.requests }];
      for (const part of record.latency.parts()) {
        metrics.push({ name: 'RequestLatency', unit: 'Milliseconds', value: part });
      }
      metrics.push(
        { name: '4xxStatusResponses', unit: 'Count', value: record.clientErrors },
        { name: '5xxStatusResponses', unit: 'Count', value: record.serverErrors },
      );
      groups.push({ dimensions: record.dimensions, metrics });
      record.requests = 0;
      record.clientErrors = 0;
      record.serverErrors = 0;
      record.latency.reset();
    }
  }

  #admit(route: string): RouteEntry {
    if (this.#routes.size >= this.#settings.maxRoutes) {
      if (!this.#overflowLogged) {
        this.#overflowLogged = true;
        this.#logger?.warn(
          { route, maxRoutes: this.#settings.maxRoutes },
          `metrics: more than ${this.#settings.maxRoutes} route patterns; requests of "${route}" and any further route count under Route "${otherRoutes}" (raise metrics.maxRoutes to keep them apart)`,
        );
      }
      return this.#other;
    }
    const entry: RouteEntry = { route: toDimensionValue(route), records: [] };
    this.#routes.set(route, entry);
    return entry;
  }

  #record(entry: RouteEntry, index: number): RouteMethodRecord {
    const record: RouteMethodRecord = {
      dimensions: Object.freeze({
        ...this.#settings.dimensions,
        Route: entry.route,
        Method: methods[index]!,
      }),
      requests: 0,
      clientErrors: 0,
      serverErrors: 0,
      latency: new ValueHistogram(),
    };
    entry.records[index] = record;
    return record;
  }
}
