import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream, Logger } from 'pino';
import type { RequestLevels } from '../logging/request-line.js';
import type { LogLevel } from './environment.js';

/** A plain Node.js request listener, as `http.createServer` takes it (an Express app is one). */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** A Koa application, recognised by its `callback()`. */
export interface KoaLikeApp {
  callback(): NodeRequestListener;
  use(...args: never[]): unknown;
}

/** A Fastify instance, recognised by `register`, `addHook` and `ready`. */
export interface FastifyLikeApp {
  register(...args: never[]): unknown;
  addHook(...args: never[]): unknown;
  ready(...args: never[]): unknown;
}

/** Anything `bootstrapAppRunner({ app })` accepts. */
export type SupportedApp = NodeRequestListener | KoaLikeApp | FastifyLikeApp;

/** Logging options. */
export interface LoggingOptions {
  /**
   * Lowest level written.
   * @default the `LOG_LEVEL` variable, else `'info'`
   */
  level?: LogLevel;
  /**
   * Write one line per finished request; `false` turns it off.
   * @default true
   */
  requests?: boolean;
  /**
   * Level of the request line by outcome.
   * @default { success: 'info', clientError: 'info', serverError: 'error', aborted: 'warn' }
   */
  requestLevels?: Partial<RequestLevels>;
  /**
   * Keep the query string in the request line's `path` (it may carry tokens).
   * @default false
   */
  query?: boolean;
  /**
   * Write request lines for the health endpoints too (App Runner checks every few seconds).
   * @default false
   */
  healthRequests?: boolean;
  /**
   * More paths to censor, in pino's `redact` syntax (`user.password`, `*.token`); the
   * `authorization`, `cookie`, `set-cookie`, `proxy-authorization` and `x-api-key` headers always are.
   */
  redact?: readonly string[];
  /**
   * Share of requests, from 0 to 1, logged at `debug` whatever `level` says.
   * @default 0
   */
  debugSampleRate?: number;
  /**
   * Human-readable lines through `pino-pretty` when stdout is a terminal and the app has it
   * installed (`'auto'`); never on a pipe.
   * @default 'auto'
   */
  pretty?: boolean | 'auto';
  /**
   * Your own pino logger, used as it is: the kit's request context fields, redaction and formats do
   * not apply to it.
   */
  logger?: Logger;
  /**
   * Where the kit's log lines go. For tests and embedding; App Runner wants stdout.
   * @default stdout
   */
  destination?: DestinationStream;
}

/** Health endpoint options. */
export interface HealthOptions {
  /**
   * Path of the liveness endpoint: point App Runner's health check here.
   * @default '/healthz'
   */
  livenessPath?: string;
  /**
   * Path of the readiness endpoint.
   * @default '/readyz'
   */
  readinessPath?: string;
  /**
   * Path of the startup endpoint, for Kubernetes-style startup probes.
   * @default '/startupz'
   */
  startupPath?: string;
  /**
   * Default timeout of one check run.
   * @default 1000
   */
  timeoutMs?: number;
  /**
   * Default minimum time between two runs of a check.
   * @default 1000
   */
  minIntervalMs?: number;
  /**
   * Bound on answering a health endpoint, whatever its checks do; below App Runner's 2 s timeout.
   * @default 1500
   */
  budgetMs?: number;
  /**
   * Put each failing check's error text in the response body. Off by default: the body is public.
   * @default false
   */
  exposeErrors?: boolean;
  /**
   * Fail liveness when the event loop was blocked longer than this in the last interval (opt-in;
   * keep it high: App Runner throttles the CPU of idle instances, and a spike must not get a healthy
   * instance replaced).
   * @default undefined (off)
   */
  eventLoopStallMs?: number;
}

/** Shutdown options. */
export interface ShutdownOptions {
  /**
   * Bound on everything from the first signal to exit, drain delay and hooks included. Keep it below
   * the platform's stop window: ECS and Kubernetes send SIGKILL 30 s after SIGTERM by default.
   * @default 20000
   */
  timeoutMs?: number;
  /**
   * Time to keep serving after the signal, with readiness failing, before connections are drained;
   * lets a load balancer or Kubernetes stop routing first.
   * @default 0
   */
  drainDelayMs?: number;
  /**
   * How long a keep-alive socket with nothing in flight is left open once draining begins, so that a
   * request its client was writing at that moment is still served (with `Connection: close`).
   * @default 1000
   */
  idleGraceMs?: number;
  /**
   * Default bound of each `onShutdown` hook.
   * @default 5000
   */
  hookTimeoutMs?: number;
  /**
   * Signals that start the shutdown; `[]` installs no handler.
   * @default ['SIGTERM', 'SIGINT']
   */
  signals?: readonly NodeJS.Signals[];
  /**
   * On an unhandled promise rejection: `'shutdown'` logs it as fatal and drains with exit code 1
   * (Node's own default is to crash); `'log'` logs it and keeps serving. Beware Express 4: a
   * rejected `async` route handler is an unhandled rejection and its request is never answered.
   * @default 'shutdown'
   */
  unhandledRejection?: 'shutdown' | 'log';
  /**
   * Install `uncaughtException` and `unhandledRejection` listeners. An uncaught exception is logged
   * as fatal with its stack, then the process drains and exits 1.
   * @default true
   */
  handleProcessErrors?: boolean;
  /**
   * Called with the exit code once shutdown ends; `false` leaves the process running (for embedding
   * and tests).
   * @default process.exit
   */
  exit?: ((code: number) => void) | false;
}

/** Timeouts of the kit's `http.Server`, chosen for a load balancer or proxy in front of it. */
export interface ServerOptions {
  /**
   * How long an idle keep-alive connection stays open. Above the 60 s idle timeout of AWS load
   * balancers, so the proxy, not the app, closes idle connections (avoids 502s on reuse).
   * @default 65000
   */
  keepAliveTimeoutMs?: number;
  /**
   * Time allowed to receive the request headers. Above `keepAliveTimeoutMs`, as Node requires for
   * reused connections.
   * @default 66000
   */
  headersTimeoutMs?: number;
  /**
   * Time allowed to receive the whole request; App Runner ends requests at 120 s.
   * @default 120000
   */
  requestTimeoutMs?: number;
}

/**
 * Options of {@link bootstrapAppRunner}. Every option is optional; an option wins over the
 * environment variable of the same meaning, which wins over the documented default.
 */
export interface BootstrapOptions {
  /** The app to serve: an Express app, a Koa app, or a Node request listener. */
  app?: SupportedApp;
  /**
   * Port to listen on; `0` picks a free port (for tests).
   * @default the `PORT` variable, else 8080
   */
  port?: number;
  /**
   * Interface to listen on.
   * @default all interfaces (IPv6 and IPv4 where available)
   */
  host?: string;
  /**
   * Service name on log lines and traces.
   * @default `SERVICE_NAME`, else `OTEL_SERVICE_NAME`, else the `name` in ./package.json
   */
  service?: string;
  /**
   * Service version on log lines and traces.
   * @default `SERVICE_VERSION`, else the `version` in ./package.json
   */
  version?: string;
  /** Logging options. */
  logging?: LoggingOptions;
  /** Health endpoint options. */
  health?: HealthOptions;
  /** Shutdown options. */
  shutdown?: ShutdownOptions;
  /** Server timeouts. */
  server?: ServerOptions;
  /**
   * The environment to read instead of `process.env` (for tests and embedding).
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
}
