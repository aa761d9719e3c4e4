import type { Logger } from 'pino';
import { type MetricsConfig, metricDimensions } from '../config/metrics.js';
import type { HealthRegistry } from '../health/registry.js';
import type { RequestScope } from '../http/request-scope.js';
import { processStdout } from '../logging/stdout-destination.js';
import { AppMetrics, type RuntimeMetrics } from './app-metrics.js';
import { HealthMetrics } from './health-metrics.js';
import { type MetricsDestination, MetricsPublisher } from './publisher.js';
import { RequestMetrics } from './request-metrics.js';
import { RuntimeMetricsSource } from './runtime-metrics.js';
import { ServiceMetrics, type ShedCounter } from './service-metrics.js';

/** What metrics are started with. */
export interface MetricsDependencies {
  readonly scope: RequestScope;
  readonly logger: Logger;
  readonly service: string;
  /** `metrics.destination`; the kit's stdout writer when absent. */
  readonly destination: MetricsDestination | undefined;
}

/** Running metrics, as the bootstrap wires them. */
export interface Metrics {
  /** `runtime.metrics`. */
  readonly api: RuntimeMetrics;
  /** Adds the health registry's check outcomes and the load shedder's count, once they exist. */
  observe(parts: { readonly health: HealthRegistry; readonly shedder: ShedCounter | undefined }): void;
  /** The shutdown's final flush, before the logger's. Never rejects. */
  flush(): Promise<void>;
  /** Stops the timer, the hooks and the subscriptions. Safe to call twice. */
  stop(): void;
}

/**
 * Starts the kit's metrics as `config` says: with metrics off, `runtime.metrics` checks its
 * arguments and drops them, and nothing else runs. With metrics on, a finish hook on the request
 * scope, the secret-failure subscription, the flush timer (unref'd), and (`metrics.runtime`) the
 * runtime figures' sampling.
 */
export function startMetrics(config: MetricsConfig, dependencies: MetricsDependencies): Metrics {
  const { scope, logger } = dependencies;
  const dimensions = metricDimensions(config, dependencies.service);
  if (!config.enabled) {
    return {
      api: new AppMetrics({ enabled: false, dimensions }),
      observe: () => {},
      flush: () => Promise.resolve(),
      stop: () => {},
    };
  }

  const requests = new RequestMetrics({ maxRoutes: config.maxRoutes, dimensions }, scope, logger);
  const service = new ServiceMetrics(dimensions, requests);
  const health = new HealthMetrics(dimensions);
  const app = new AppMetrics({
    enabled: true,
    dimensions,
    logger,
    // Called by the app once started, when the publisher below exists.
    flush: () => {
      publisher.flush();
      return Promise.resolve();
    },
  });
  const runtime = config.runtime ? new RuntimeMetricsSource(dimensions) : undefined;
  const publisher = new MetricsPublisher({
    namespace: config.namespace,
    flushIntervalMs: config.flushIntervalMs,
    destination: dependencies.destination ?? processStdout(),
    sources:
      runtime === undefined ? [requests, service, health, app] : [requests, service, health, app, runtime],
    logger,
  });
  const removers = [scope.onFinish(requests.onFinish)];
  service.subscribe();
  publisher.start();
  logger.debug(
    { metrics: { namespace: config.namespace, dimensions, flushIntervalMs: config.flushIntervalMs } },
    'metrics: CloudWatch EMF lines on stdout',
  );

  return {
    api: app,
    observe({ health: registry, shedder }) {
      removers.push(registry.onReport(health.onReport));
      if (shedder !== undefined) service.observeShedder(shedder);
    },
    flush() {
      publisher.flushFinal();
      return Promise.resolve();
    },
    stop() {
      for (const remove of removers.splice(0)) remove();
      service.unsubscribe();
      publisher.stop();
      runtime?.stop();
    },
  };
}
