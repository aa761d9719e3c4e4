import type { Server } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import type { Logger } from 'pino';
import type { KitConfig } from './config/config.js';
import type { NodeRequestListener } from './config/options.js';
import type { HealthRegistry } from './health/registry.js';
import type { LoadStats } from './http/load-shedder.js';
import type { ShutdownHook, ShutdownHookOptions, ShutdownResult } from './lifecycle/shutdown-coordinator.js';
import type { LifecycleState } from './lifecycle/state.js';
import type { RedactionRegistry } from './logging/redaction.js';
import type { RuntimeMetrics } from './metrics/app-metrics.js';
import type { SecretStore } from './secrets/secret-store.js';
import type { RuntimeTracer } from './tracing/tracer.js';

/**
 * What {@link bootstrapAppRunner} returns: the running kit.
 *
 * @example
 * ```ts
 * const runtime = await bootstrapAppRunner({ app });
 * runtime.onShutdown('database', () => pool.end());
 * runtime.logger.info({ port: runtime.config.port }, 'up');
 * ```
 */
export interface AppRunnerRuntime {
  /** The validated, frozen configuration. */
  readonly config: KitConfig;
  /**
   * The kit's pino logger: JSON on stdout, with `requestId` inside requests. With Fastify given a
   * logger of `createLogger`, that one (`fastify.log`'s parent).
   */
  readonly logger: Logger;
  /**
   * The process-wide registry of secret values masked in every log line; the secrets loader feeds it.
   */
  readonly redaction: RedactionRegistry;
  /** Secrets and parameters: `get(name)` for declared ones, `resolve(ref)` for any reference. */
  readonly secrets: SecretStore;
  /**
   * Tracing: spans around your own work, attributes, the current trace id, and AWS SDK clients
   * traced per call. No-ops when tracing is off (`runtime.tracer.mode`).
   */
  readonly tracer: RuntimeTracer;
  /**
   * The app's own CloudWatch metrics, written as EMF lines with the kit's: `count(name, value?,
   * dimensions?)`, `record(name, value, unit, dimensions?)`, `flush()`. Checks its arguments and
   * drops them when `metrics` is off.
   * @example
   * ```ts
   * runtime.metrics.count('OrdersPlaced', 1, { Plan: 'pro' });
   * runtime.metrics.record('PaymentLatency', elapsedMs, 'Milliseconds');
   * ```
   */
  readonly metrics: RuntimeMetrics;
  /** The health check registry behind `/healthz`, `/readyz` and `/startupz`. */
  readonly health: HealthRegistry;
  /**
   * The server the kit listens with; `undefined` when bootstrapped without `app`. Attach Socket.IO or
   * `ws` to it once `bootstrapAppRunner` resolves, or in `beforeListen`, where it is already there
   * when the kit creates it (an Express or Koa app, a request listener); a Fastify or NestJS app
   * brings its own, which is `undefined` here until the app is installed, after `beforeListen`.
   */
  readonly server: Server | undefined;
  /** `starting`, `ready`, `draining` or `stopped`. */
  readonly state: LifecycleState;
  /** Aborted when draining begins: pass it to long work so it stops in time. */
  readonly signal: AbortSignal;
  /**
   * Requests in flight inside the kit's request scope, health endpoints excluded: the same figure as
   * `stats().inFlight` (the shutdown line's `inFlight` counts every response on the managed servers).
   */
  readonly inFlight: number;
  /** In-flight, served and shed counts, and event-loop pressure, for scaling decisions. */
  stats(): LoadStats;
  /**
   * Registers `fn` to run on shutdown, after the drain, in reverse order of registration, bounded
   * by its own timeout. Returns the function that unregisters it.
   */
  onShutdown(name: string, fn: ShutdownHook, options?: ShutdownHookOptions): () => void;
  /** Makes shutdown wait for `promise` (bounded by `shutdown.timeoutMs`); returns `promise`. */
  track<T>(promise: Promise<T>, name?: string): Promise<T>;
  /**
   * Runs the shutdown sequence, as a signal would; a second call joins the first. Resolves when it
   * ends (unless `shutdown.exit` ends the process first: by default it does, except in a test
   * runner's process).
   */
  shutdown(reason?: string): Promise<ShutdownResult>;
  /**
   * For manual wiring: the kit's request scope and health endpoints in front of `listener`.
   * @example
   * ```ts
   * const server = http.createServer(runtime.createRequestListener(handler));
   * runtime.manageServer(server);
   * ```
   */
  createRequestListener(listener: NodeRequestListener): NodeRequestListener;
  /**
   * For manual wiring: drain `server` on shutdown with the kit's own: a server of `node:http` or
   * `node:https`, or of `node:http2` (each connection sent a GOAWAY), before or after `listen()`.
   */
  manageServer(server: Server | Http2Server | Http2SecureServer): void;
}
