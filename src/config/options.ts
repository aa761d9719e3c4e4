import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { DestinationStream, Logger } from 'pino';
import type { AnyAppAdapter } from '../adapters/adapter.js';
import type { FastifyLikeApp } from '../adapters/fastify.js';
import type { KoaLikeApp } from '../adapters/koa.js';
import type { NestLikeApp } from '../adapters/nest.js';
import type { LogBufferOptions } from '../logging/held-lines.js';
import type { MessageKey } from '../logging/line-limit.js';
import type { RequestLevels } from '../logging/request-line.js';
import type { MetricsDestination } from '../metrics/publisher.js';
import type { AppRunnerRuntime } from '../runtime.js';
import type { SecretDeclaration, SecretOptions } from '../secrets/settings.js';
import type { XrayTracingOptions } from '../tracing/xray/options.js';
import type { LogLevel } from './environment.js';
import type { QuietRequests, RequestMatch } from './request-match.js';
import type { TracePropagator, TracingMode } from './tracing.js';

/** A plain Node.js request listener, as `http.createServer` takes it (an Express app is one). */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Anything `bootstrapAppRunner({ app })` accepts. */
export type SupportedApp = NodeRequestListener | KoaLikeApp | FastifyLikeApp | NestLikeApp;

/** Logging options. */
export interface LoggingOptions {
  /**
   * Lowest level written.
   * @default the `LOG_LEVEL` variable, else `'info'`
   */
  level?: LogLevel | undefined;
  /**
   * Write one line per finished request; `false` turns it off.
   * @default true
   */
  requests?: boolean | undefined;
  /**
   * Level of the request line by outcome.
   * @default { success: 'info', clientError: 'info', serverError: 'error', aborted: 'warn' }
   */
  requestLevels?: Partial<RequestLevels> | undefined;
  /**
   * Keep the query string in the request line's `path` (it may carry tokens).
   * @default false
   */
  query?: boolean | undefined;
  /**
   * Write request lines for the health endpoints too (App Runner checks every few seconds).
   * @default false
   */
  healthRequests?: boolean | undefined;
  /**
   * More paths to censor, in pino's `redact` syntax (`user.password`, `*.token`); the
   * `authorization`, `cookie`, `set-cookie`, `proxy-authorization` and `x-api-key` headers always are.
   */
  redact?: readonly string[] | undefined;
  /**
   * Share of requests, from 0 to 1, logged at `debug` whatever `level` says.
   * @default 0
   */
  debugSampleRate?: number | undefined;
  /**
   * Requests logged at `debug` whatever `level` says, picked as they arrive (Node's request, as the
   * kit's scope starts): a support engineer's header, a tenant under investigation. Only `true`
   * picks; a function that throws or returns a promise picks nothing, and the kit says so once.
   * Check a secret, not the mere presence of a header: anyone can send one (docs/logging.md, "Debug
   * lines on demand").
   * @default none: no request is picked
   *
   * @example
   * ```ts
   * // supportToken: a secret of yours (loaded with the kit's secrets, say), undefined when unset
   * const debugRequests = (req: IncomingMessage) =>
   *   supportToken !== undefined && req.headers['x-debug-token'] === supportToken;
   * ```
   */
  debugRequests?: ((req: IncomingMessage) => boolean) | undefined;
  /**
   * Human-readable lines through `pino-pretty` when stdout is a terminal and the app has it
   * installed (`'auto'`); never on a pipe.
   * @default 'auto'
   */
  pretty?: boolean | 'auto' | undefined;
  /**
   * Longest log line written, in bytes, from 1,024 to 262,144 (CloudWatch Logs' event limit): a longer
   * line (a large object, a long error chain) has its longest values cut until it fits, and says so
   * with `"truncated":true,"lineBytes":<its size>`; the kit's own fields are kept whole.
   * @default 16000 (under Docker's 16 KiB split, which ECS's `awslogs` driver ships as separate events)
   */
  maxLineBytes?: number | undefined;
  /**
   * The key of a line's message, on the kit's lines and the app's: `'message'` for the shape that
   * Powertools Logger, ECS and Datadog write (queries, dashboards and metric filters that read
   * `message` keep working), `'msg'` as pino writes it. Not applied to `logging.logger` (build it with
   * `createLogger({ messageKey })`).
   * @default 'msg'
   */
  messageKey?: MessageKey | undefined;
  /**
   * Log buffering: `true` (or options) holds back the `debug` lines (and below) each request writes
   * that `level` leaves out, and writes them only if the request fails (5xx, aborted, or an error
   * reported on a response below 400), logs an
   * `error` line, or calls `flushRequestLogs()`; those of a request that went well are dropped. See
   * {@link LogBufferOptions} for the level held, the bytes held per request and the flush on error.
   * Not applied to `logging.logger` (build it with `createLogger({ buffer })`).
   * @default false
   */
  buffer?: boolean | LogBufferOptions | undefined;
  /**
   * The request id header. The kit adopts a well-formed id from it (visible ASCII, at most 128
   * characters; else it makes a UUID), sets it on every response of the request, and sends it on
   * with the `fetch` and `node:http`/`https` calls made within the request, AWS SDK calls included
   * (unless the call sets it), whether tracing is on or off. `false` neither echoes nor forwards it
   * (the id is still adopted from `x-request-id`).
   * @default 'x-request-id'
   */
  requestIdHeader?: string | false | undefined;
  /**
   * Your own pino logger, used as it is: the kit's request context fields, redaction and formats do
   * not apply to it (unless `createLogger` built it). Without it, a Fastify app whose
   * `loggerInstance` `createLogger` built has its logger used, with its settings.
   */
  logger?: Logger | undefined;
  /**
   * Where the kit's log lines go. For tests and embedding; App Runner wants stdout.
   * @default stdout
   */
  destination?: DestinationStream | undefined;
}

/** Health endpoint options. */
export interface HealthOptions {
  /**
   * Path of the liveness endpoint: point App Runner's health check here.
   * @default '/healthz'
   */
  livenessPath?: string | undefined;
  /**
   * Path of the readiness endpoint.
   * @default '/readyz'
   */
  readinessPath?: string | undefined;
  /**
   * Path of the startup endpoint, for Kubernetes-style startup probes.
   * @default '/startupz'
   */
  startupPath?: string | undefined;
  /**
   * Default timeout of one check run.
   * @default 1000
   */
  timeoutMs?: number | undefined;
  /**
   * Default minimum time between two runs of a check.
   * @default 1000
   */
  minIntervalMs?: number | undefined;
  /**
   * Bound on answering a health endpoint, whatever its checks do; below App Runner's 2 s timeout.
   * @default 1500
   */
  budgetMs?: number | undefined;
  /**
   * Put each failing check's error text in the response body. Off by default: the body is public.
   * @default false
   */
  exposeErrors?: boolean | undefined;
  /**
   * Fail liveness when the event loop was blocked longer than this in the last interval (opt-in;
   * keep it high: App Runner throttles the CPU of idle instances, and a spike must not get a healthy
   * instance replaced).
   * @default undefined (off)
   */
  eventLoopStallMs?: number | undefined;
}

/** Load shedding: off unless this option is given with at least one limit. */
export interface LoadSheddingOptions {
  /**
   * Answer 503 once this many requests are in flight. App Runner routes at most its MaxConcurrency
   * (100 by default) to an instance; set it to what one instance really serves well, at most that.
   */
  maxInFlight?: number | undefined;
  /** Answer 503 while the longest event-loop delay of the last interval exceeds this many ms. */
  maxEventLoopDelayMs?: number | undefined;
  /** Answer 503 while the event loop was busier than this share (0–1) of the last interval. */
  maxEventLoopUtilization?: number | undefined;
  /**
   * Answer 503 while the V8 heap in use, measured each interval, is above this many bytes; until it
   * falls below 90 % of it. Set it under the heap limit (`--max-old-space-size`), with room for the
   * requests in flight to finish: at or above it, a `warn` line at start says so.
   */
  maxHeapUsedBytes?: number | undefined;
  /**
   * Answer 503 while the process's resident set size, measured each interval, is above this many
   * bytes; until it falls below 90 % of it. Set it under the container's memory limit.
   */
  maxRssBytes?: number | undefined;
  /**
   * Length of one event-loop measurement interval.
   * @default 500
   */
  intervalMs?: number | undefined;
  /**
   * `Retry-After` of a shed response, in seconds.
   * @default 1
   */
  retryAfterSeconds?: number | undefined;
  /**
   * What `/readyz` says while the event loop is under pressure: `'off'` (nothing), `'warn'` (200),
   * `'fail'` (503: a load balancer stops routing here until it recovers).
   * @default 'off'
   */
  readiness?: 'off' | 'warn' | 'fail' | undefined;
  /**
   * Writes the shed response instead of the kit's JSON 503: called with the status already 503 and
   * `Retry-After` set (set your own to replace it); it must end the response. The kit still counts
   * it. If it throws, or returns without having started a response, the kit's own 503 is sent. It
   * may be async: a promise it returns is awaited, and a rejection ends the response.
   *
   * @example
   * ```ts
   * respond: (req, res) => {
   *   res.setHeader('content-type', 'text/html');
   *   res.end('<h1>Busy, back in a moment</h1>');
   * }
   * ```
   */
  respond?: ((req: IncomingMessage, res: ServerResponse) => void | Promise<void>) | undefined;
  /**
   * Requests never refused, whatever the pressure: paths (`'/webhooks/payments'`; `'/admin/*'` for a
   * path and all below it, as requests carry them, without the query) or a function of the request
   * as it arrives (only `true` exempts it). An exempt request is not counted against `maxInFlight`
   * while it is in flight (a held long poll, such as Socket.IO's, takes no slot of the others'), so,
   * with `maxInFlight`, the function is asked of every request; `runtime.stats().inFlight` and the
   * metrics still count it. A function that throws or returns a promise counts as `false`, said once.
   * The health endpoints are never refused anyway.
   *
   * @example
   * ```ts
   * exempt: ['/webhooks/*'],
   * // or
   * exempt: (req) => req.headers['x-priority'] === 'high',
   * ```
   */
  exempt?: RequestMatch | undefined;
  /**
   * Keep the shed answer readable by a browser app on another origin. A CORS preflight (`OPTIONS`
   * with `Origin` and `Access-Control-Request-Method`) is never refused: it goes on to the app's
   * CORS handling (`cors`, `@fastify/cors`, `@koa/cors`), which answers it at once; shed, the browser
   * would never send the request itself. A refused request with an `Origin` gets
   * `Access-Control-Allow-Origin` (its own origin), `Access-Control-Allow-Credentials: true`,
   * `Access-Control-Expose-Headers: retry-after, x-request-id` and `Vary: Origin`: without them, the
   * page sees a network error instead of the 503 and cannot read `Retry-After`. Any origin may read
   * it, as anyone can without a browser: the answer is the kit's fixed body, `Retry-After` and the
   * request id the caller sent, whoever asks and whatever the cookies; the app's code never ran. Set
   * before `respond` runs, which may change them. `false`: preflights are refused as any request, and
   * the 503 carries no CORS headers.
   * @default true
   */
  cors?: boolean | undefined;
}

/** A signal the kit can start its shutdown on (SIGKILL and SIGSTOP cannot be caught). */
export type ShutdownSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'SIGQUIT' | 'SIGUSR1' | 'SIGUSR2';

/** Shutdown options. */
export interface ShutdownOptions {
  /**
   * Bound on everything from the first signal to exit, drain delay and hooks included. Keep it below
   * the platform's stop window: ECS and Kubernetes send SIGKILL 30 s after SIGTERM by default. Its
   * last fifth (2 s at most) is kept for exporting spans, writing metrics and flushing the logger:
   * the drain and the hooks end before it.
   * @default 20000
   */
  timeoutMs?: number | undefined;
  /**
   * Time to keep serving after the signal, with readiness failing, before connections are drained;
   * lets a load balancer or Kubernetes stop routing first.
   * @default 0
   */
  drainDelayMs?: number | undefined;
  /**
   * How long a keep-alive socket with nothing in flight is left open once draining begins, so that a
   * request its client was writing at that moment is still served (with `Connection: close`).
   * With `drainDelayMs`, must be below `timeoutMs` (`ARK_CONFIG_INVALID` otherwise).
   * @default 1000, or half of what `drainDelayMs` leaves of `timeoutMs` when that is shorter; 0 in
   * a test runner's process (Jest, node:test, Vitest: see `exit`)
   */
  idleGraceMs?: number | undefined;
  /**
   * Default bound of each `onShutdown` hook.
   * @default 5000
   */
  hookTimeoutMs?: number | undefined;
  /**
   * Signals that start the shutdown; `[]` installs no handler.
   * @default ['SIGTERM', 'SIGINT']; `[]` in a test runner's process (see `exit`)
   */
  signals?: readonly ShutdownSignal[] | undefined;
  /**
   * On an unhandled promise rejection: `'shutdown'` logs it as fatal and drains with exit code 1
   * (Node's own default is to crash); `'log'` logs it and keeps serving. Beware Express 4: a
   * rejected `async` route handler is an unhandled rejection and its request is never answered.
   * @default 'shutdown', or 'log' when Node runs with `--unhandled-rejections=warn`, `none` or
   * `warn-with-error-code` (on its command line, in `NODE_OPTIONS` or in its config file's
   * `nodeOptions`, which Node reads only while `NODE_OPTIONS` is unset), and for a rejection that comes
   * while another `unhandledRejection` listener is installed (the app's, an error reporter's, or a
   * framework's such as Next.js's): Node keeps running on a rejection then, and so does the kit
   */
  unhandledRejection?: 'shutdown' | 'log' | undefined;
  /**
   * Install `uncaughtException` and `unhandledRejection` listeners. An uncaught exception is logged
   * as fatal with its stack, then the process drains and exits 1.
   * @default true
   */
  handleProcessErrors?: boolean | undefined;
  /**
   * Called with the exit code once shutdown ends; `false` leaves the process running (for embedding
   * and tests). In a test runner's process (Jest's test environment, a process running `node:test`
   * tests, Vitest's worker) the default is `false`, with `signals: []` and `idleGraceMs: 0`: an exit
   * there would end the run, and the runner would report neither the tests left nor their failures.
   * An app a test starts as a child process is not one: it exits as in production. One `info` line
   * at start names the defaults taken.
   * @default process.exit; `false` in a test runner's process
   */
  exit?: (((code: number) => void) | false) | undefined;
}

/**
 * Tracing options. The exporter, sampler and resource come from the OpenTelemetry variables
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_TRACES_SAMPLER`, …).
 */
export interface TracingOptions {
  /**
   * `'auto'`: OpenTelemetry when `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
   * `OTEL_TRACES_EXPORTER` is set, else the X-Ray SDK when `AWS_XRAY_DAEMON_ADDRESS` is set, else off;
   * and off when another SDK (an APM agent) registered OpenTelemetry's global tracer provider before
   * the kit started, whose trace and span ids the log lines then carry.
   * `'otel'`: OpenTelemetry (needs the `@opentelemetry/*` packages). `'xray'`: the X-Ray SDK, segments
   * over UDP to an X-Ray daemon (needs `aws-xray-sdk-core`); both trace beside another SDK too (every
   * request twice, with a warning). `'off'`: no spans; the trace id of an incoming `X-Amzn-Trace-Id`
   * (or of another SDK's span) still reaches the logs.
   * @default the `TRACING_MODE` variable, else `'auto'`
   */
  mode?: TracingMode | undefined;
  /**
   * Trace outgoing `fetch` (undici) requests made inside a request or span, and send them the
   * trace header.
   * @default true
   */
  fetch?: boolean | undefined;
  /**
   * Trace outgoing `node:http`/`node:https` requests made inside a request or span, and send them
   * the trace header. The kit wraps `http.request`, `http.get`, `https.request` and `https.get`
   * while it runs (no loader flag); `false` leaves them alone.
   * @default true
   */
  httpClient?: boolean | undefined;
  /**
   * Copy the fields of `addRequestFields` to the request's span when it ends: OpenTelemetry
   * attributes, X-Ray annotations (searchable in filter expressions). Off by default: span
   * attributes are exported and kept longer than log lines, and fields may name people.
   * @default false
   */
  requestFields?: boolean | undefined;
  /**
   * The trace headers read from requests and written on outgoing calls (`fetch`, `node:http`, the
   * AWS SDK), in order: `'tracecontext'` (W3C `traceparent` and `tracestate`), `'baggage'` (W3C
   * `baggage`), `'xray'` (`X-Amzn-Trace-Id`). When a request carries several, the last in the list
   * that names a parent span is continued. `[]` reads and writes none. Wins over `OTEL_PROPAGATORS`.
   * @default ['xray', 'tracecontext', 'baggage'] (X-Ray and W3C as AWS Distro for OpenTelemetry JS, and W3C Baggage)
   */
  propagators?: readonly TracePropagator[] | undefined;
  /** Sampling of the X-Ray SDK backend; ignored in the other modes. */
  xray?: XrayTracingOptions | undefined;
}

/**
 * CloudWatch metrics in the Embedded Metric Format, written to stdout as JSON lines that CloudWatch
 * Logs turns into metrics: per route and method (requests, latency, 4xx, 5xx), in-flight peak, shed
 * requests, health-check outcomes, secret-refresh failures, and `runtime.metrics` for the app's own.
 * Off unless this option is given: custom metrics are billed per metric.
 *
 * @example
 * ```ts
 * await bootstrapAppRunner({ app, metrics: { namespace: 'NotesApi', maxRoutes: 40 } });
 * ```
 */
export interface MetricsOptions {
  /**
   * Aggregate and write metrics; `false` keeps `runtime.metrics` working as a no-op.
   * @default true once `metrics` is given (metrics are off without the option)
   */
  enabled?: boolean | undefined;
  /**
   * CloudWatch namespace of every metric, the kit's and the app's.
   * @default 'AppRunnerKit'
   */
  namespace?: string | undefined;
  /**
   * Dimensions of every metric, replacing the defaults (at most 28: the request metrics add `Route`
   * and `Method`).
   * @default { Service: <service name>, Environment: <DEPLOYMENT_ENVIRONMENT> } (no Environment when unset)
   */
  dimensions?: Record<string, string> | undefined;
  /**
   * Time between two flushes (a line per route and method, and a few more). Metrics are flushed on
   * shutdown too, before the logger.
   * @default 60000
   */
  flushIntervalMs?: number | undefined;
  /**
   * Route patterns with metrics of their own: the requests of later ones count under Route `other`,
   * so that the number of metrics (and their cost) stays bounded.
   * @default 20
   */
  maxRoutes?: number | undefined;
  /**
   * Runtime figures, one datapoint each per flush: event-loop delay (p50, p99, max) and utilisation,
   * heap used and limit, RSS, external memory, GC pause time and count, active resources
   * (`runtimeMetricNames` lists names and units). Sampled per interval: no cost per request.
   * @default true
   */
  runtime?: boolean | undefined;
  /**
   * Where EMF lines go (for tests and embedding): anything with `write(line)`.
   * @default stdout, through the kit's writer (lines never interleave with log lines)
   */
  destination?: MetricsDestination | undefined;
}

/** Timeouts of the kit's `http.Server`, chosen for a load balancer or proxy in front of it. */
export interface ServerOptions {
  /**
   * How long an idle keep-alive connection stays open. Above the 60 s idle timeout of AWS load
   * balancers, so the proxy, not the app, closes idle connections (avoids 502s on reuse).
   * @default 65000
   */
  keepAliveTimeoutMs?: number | undefined;
  /**
   * Time allowed to receive the request headers. Above `keepAliveTimeoutMs`, as Node requires for
   * reused connections.
   * @default 66000
   */
  headersTimeoutMs?: number | undefined;
  /**
   * Time allowed to receive the whole request; App Runner ends requests at 120 s.
   * @default 120000
   */
  requestTimeoutMs?: number | undefined;
  /**
   * How many proxies in front of the app append the address they received from to
   * `X-Forwarded-For`: the client's address (`clientIp` on the request line, the span's
   * `client.address`, X-Ray's `client_ip`) is the entry that many from the end, the entries before
   * it being whatever the caller sent. 1 fits App Runner and a load balancer (ALB); 2 a CDN in front
   * of an ALB; 0 reads no header (the peer's address).
   * @default 1
   */
  trustedProxies?: number | undefined;
  /**
   * Serve HTTPS: Node's `https.ServerOptions` (`key` and `cert`, or `pfx`), for the server the kit
   * creates (Express, Koa, a request listener). For end-to-end TLS on ECS or EKS behind a load
   * balancer; App Runner ends TLS in front of the app. A Fastify app brings its own server: create it
   * with `fastify({ https: { key, cert } })` instead. The drain works the same on HTTPS.
   * @default undefined (plain HTTP)
   * @example
   * ```ts
   * await bootstrapAppRunner({ app, server: { tls: { key: readFileSync('key.pem'), cert: readFileSync('cert.pem') } } });
   * ```
   */
  tls?: HttpsServerOptions | undefined;
}

/**
 * Options of {@link bootstrapAppRunner}. Every option is optional; an option wins over the
 * environment variable of the same meaning, which wins over the documented default.
 */
export interface BootstrapOptions {
  /**
   * The app to serve: an Express app, a Fastify instance, a Koa app, a NestJS application (of
   * `NestFactory.create`, on its Express or Fastify platform: the kit runs its `init()` and, once
   * drained, its `close()`), or a Node request listener.
   */
  app?: SupportedApp | undefined;
  /**
   * The framework adapter, named explicitly (`expressAdapter` from `apprunner-kit/express`, …);
   * by default the kit recognises the app by its shape.
   */
  adapter?: AnyAppAdapter | undefined;
  /**
   * Port to listen on; `0` picks a free port (for tests).
   * @default the `PORT` variable, else 8080
   */
  port?: number | undefined;
  /**
   * Interface to listen on.
   * @default all interfaces (IPv6 and IPv4 where available)
   */
  host?: string | undefined;
  /**
   * Service name on log lines and traces.
   * @default `SERVICE_NAME`, else `OTEL_SERVICE_NAME`, else `service.name` in
   * `OTEL_RESOURCE_ATTRIBUTES`, else the `name` in ./package.json, else `'app'`; with Fastify and a
   * logger of `createLogger`, that logger's `service`
   */
  service?: string | undefined;
  /**
   * Service version on log lines and traces.
   * @default `SERVICE_VERSION`, else `service.version` in `OTEL_RESOURCE_ATTRIBUTES`, else the
   * `version` in ./package.json; with Fastify and a logger of `createLogger`, that logger's `version`
   */
  version?: string | undefined;
  /** Logging options. */
  logging?: LoggingOptions | undefined;
  /**
   * Requests to keep quiet: paths as they arrive (`'/metrics'`; `'/internal/*'` for a path and all
   * below it; the query is ignored) or a function of Node's request as it arrived, answering at once.
   * A quiet request keeps its request id and context, but writes no request line unless it fails
   * (5xx) or is aborted, is not sampled (no span, nor any for what runs in it), and is left out of the
   * request metrics — for a metrics scrape, a favicon, a probe of your own. A function that throws or
   * returns a promise counts as not quiet (logged once).
   * @example
   * ```ts
   * await bootstrapAppRunner({ app, quietRequests: ['/metrics', '/favicon.ico', '/internal/*'] });
   * ```
   */
  quietRequests?: QuietRequests | undefined;
  /**
   * Runs once the secrets are loaded, before the server listens: open pools, run migrations, warm
   * caches. Traffic arrives only after it resolves; when it throws, the bootstrap fails with that error.
   * `runtime.server` is there already when the kit creates it (Express, Koa, a request listener):
   * Socket.IO or `ws` may be attached to it here.
   */
  beforeListen?: ((runtime: AppRunnerRuntime) => unknown) | undefined;
  /** Health endpoint options. */
  health?: HealthOptions | undefined;
  /**
   * Secrets and parameters loaded before the server listens and kept fresh through rotation:
   * NAME → reference (`secretsmanager:prod/db#password`, `ssm:/app/key`, an ARN, `env:NAME`,
   * `file:/path#key`) or `{ ref, ttlMs?, optional? }`. Read them with `runtime.secrets.get(NAME)`.
   */
  secrets?: Record<string, SecretDeclaration> | undefined;
  /** Cache, start-up budget, AWS client and custom provider options of the secrets. */
  secretOptions?: SecretOptions | undefined;
  /** Load shedding (off unless given): 503 with `Retry-After` past a limit; health is never shed. */
  loadShedding?: LoadSheddingOptions | undefined;
  /** Shutdown options. */
  shutdown?: ShutdownOptions | undefined;
  /** Server timeouts. */
  server?: ServerOptions | undefined;
  /** Tracing: OpenTelemetry with X-Ray trace ids, or off. */
  tracing?: TracingOptions | undefined;
  /** CloudWatch metrics (EMF on stdout): off unless given. */
  metrics?: MetricsOptions | undefined;
  /**
   * The environment to read instead of `process.env` (for tests and embedding).
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}
