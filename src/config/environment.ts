import { parseDimensionText } from './metrics.js';
import { parseSdkInteger, sdkIntegerAccepted } from './otel-sdk.js';
import { parseEnum, parseIntegerText, parseName } from './parse.js';
import { readResourceAttributes } from './resource-attributes.js';
import {
  parseBooleanText,
  parseEndpointUrl,
  parseOtlpProtocol,
  parsePlatformMarker,
  parsePropagatorsText,
  parseTracesExporter,
  parseTracesSampler,
  parseTracingModeText,
  tracesSamplers,
  tracingModes,
} from './tracing.js';

/** The log levels the kit accepts, most severe first. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A pino log level name. */
export type LogLevel = (typeof logLevels)[number];

/** One environment variable the kit reads: how it is documented and how it is parsed. */
export interface EnvironmentVariable<T> {
  /** What the variable does, one sentence, Markdown allowed. */
  readonly description: string;
  /** The values accepted, as documented. */
  readonly accepted: string;
  /** The value used when the variable is unset or empty, as documented. */
  readonly default: string;
  /** Parses a non-empty raw value; throws the configuration error naming the variable. */
  readonly parse: (raw: string, name: string) => T;
}

function variable<T>(spec: EnvironmentVariable<T>): EnvironmentVariable<T> {
  return Object.freeze(spec);
}

/** A numeric variable of the OpenTelemetry SDK: an integer from `min`, else a warning and the default. */
function sdkVariable(description: string, defaultText: string, min: number, unit?: string) {
  return variable({
    description,
    accepted: sdkIntegerAccepted(min, unit),
    default: defaultText,
    parse: (raw) => parseSdkInteger(raw, min),
  });
}

/**
 * Every environment variable the kit reads. The config loader parses from this table and the
 * README's table of variables is rendered from it (`npm run docs:env`); a test keeps them in step.
 */
export const environmentSchema = Object.freeze({
  PORT: variable({
    description:
      'Port the server listens on, on all interfaces. App Runner sets it; `options.port` wins over it.',
    accepted: 'an integer from 1 to 65535',
    default: '8080',
    parse: (raw, name) => parseIntegerText(name, raw, 1, 65_535),
  }),
  LOG_LEVEL: variable({
    description:
      'Lowest level written to stdout; `options.logging.level` (or `createLogger({ level })`) wins over it.',
    accepted: logLevels.join(', '),
    default: 'info',
    parse: (raw, name) => parseEnum(name, raw.trim().toLowerCase(), logLevels),
  }),
  SERVICE_NAME: variable({
    description:
      'Service name on every log line and span; `options.service` (or `createLogger({ service })`) wins over it.',
    accepted: 'a string of at most 256 characters',
    default:
      '`OTEL_SERVICE_NAME`, else `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, else the `name` in `package.json` of the working directory, else `app`',
    parse: (raw, name) => parseName(name, raw),
  }),
  SERVICE_VERSION: variable({
    description:
      'Service version on every log line and span; `options.version` (or `createLogger({ version })`) wins over it.',
    accepted: 'a string of at most 128 characters',
    default:
      '`service.version` in `OTEL_RESOURCE_ATTRIBUTES`, else the `version` in `package.json` of the working directory',
    parse: (raw, name) => parseName(name, raw, 128),
  }),
  DEPLOYMENT_ENVIRONMENT: variable({
    description:
      "Deployment environment (`prod`, `staging`): the `Environment` dimension of the kit's CloudWatch metrics (`metrics.dimensions` wins over it).",
    accepted: 'at most 255 printable ASCII characters',
    default:
      '`deployment.environment.name` (or `deployment.environment`) in `OTEL_RESOURCE_ATTRIBUTES`, else unset: metrics have no `Environment` dimension',
    parse: (raw, name) => parseDimensionText(raw, name),
  }),
  AWS_REGION: variable({
    description: 'AWS region, on every log line; App Runner, ECS and the AWS SDK set or read it.',
    accepted: 'a region name such as `us-east-1`',
    default: '`AWS_DEFAULT_REGION`, else unset',
    parse: (raw, name) => parseName(name, raw, 64),
  }),
  AWS_DEFAULT_REGION: variable({
    description: 'AWS region when `AWS_REGION` is unset.',
    accepted: 'a region name such as `us-east-1`',
    default: 'unset',
    parse: (raw, name) => parseName(name, raw, 64),
  }),
  TRACING_MODE: variable({
    description:
      "How the kit traces, as `tracing.mode` (which wins over it): `auto` picks from the `OTEL_*` variables and `AWS_XRAY_DAEMON_ADDRESS`, and leaves tracing to another SDK that registered OpenTelemetry's global tracer provider (an APM agent); `otel` and `xray` trace with the kit whatever else traces; `off` does not trace.",
    accepted: tracingModes.join(', '),
    default: 'auto',
    parse: (raw, name) => parseTracingModeText(raw, name),
  }),
  OTEL_SERVICE_NAME: variable({
    description:
      'Service name when `SERVICE_NAME` is unset (the OpenTelemetry variable); it wins over `service.name` in `OTEL_RESOURCE_ATTRIBUTES`.',
    accepted: 'a string of at most 256 characters',
    default: 'unset',
    parse: (raw, name) => parseName(name, raw),
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: variable({
    description:
      "Where spans go over OTLP (App Runner: `http://localhost:4317`); `/v1/traces` is appended for HTTP. When set, `tracing.mode: 'auto'` traces through OpenTelemetry.",
    accepted: 'an `http://` or `https://` URL',
    default: 'unset: `http://localhost:4318` (HTTP) or `http://localhost:4317` (gRPC) in `otel` mode',
    parse: (raw, name) => parseEndpointUrl(raw, name),
  }),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: variable({
    description:
      'The OTLP endpoint of traces, used as it is (no path appended); wins over `OTEL_EXPORTER_OTLP_ENDPOINT`. When set, `auto` traces through OpenTelemetry.',
    accepted: 'an `http://` or `https://` URL',
    default: 'unset',
    parse: (raw, name) => parseEndpointUrl(raw, name),
  }),
  OTEL_EXPORTER_OTLP_PROTOCOL: variable({
    description: 'The OTLP transport: gRPC, or HTTP with a protobuf or JSON body.',
    accepted: 'grpc, http/protobuf, http/json',
    default:
      "`grpc` when the endpoint's port is 4317 (a deviation from OpenTelemetry's default, for App Runner's collector), else `http/protobuf`",
    parse: (raw, name) => parseOtlpProtocol(raw, name),
  }),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: variable({
    description: 'The OTLP transport of traces; wins over `OTEL_EXPORTER_OTLP_PROTOCOL`.',
    accepted: 'grpc, http/protobuf, http/json',
    default: '`OTEL_EXPORTER_OTLP_PROTOCOL`',
    parse: (raw, name) => parseOtlpProtocol(raw, name),
  }),
  OTEL_EXPORTER_OTLP_TIMEOUT: variable({
    description:
      'How long one export may take, retries included, before its spans are dropped (it runs in the background, never in a request).',
    accepted: 'an integer of milliseconds from 1 to 600000',
    default: '10000',
    parse: (raw, name) => parseIntegerText(name, raw, 1, 600_000),
  }),
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: variable({
    description: 'The export timeout of traces; wins over `OTEL_EXPORTER_OTLP_TIMEOUT`.',
    accepted: 'an integer of milliseconds from 1 to 600000',
    default: '`OTEL_EXPORTER_OTLP_TIMEOUT`',
    parse: (raw, name) => parseIntegerText(name, raw, 1, 600_000),
  }),
  OTEL_TRACES_EXPORTER: variable({
    description:
      'When set, `auto` traces through OpenTelemetry; `none` keeps `auto` off, and in `otel` mode exports nothing (trace ids and headers still flow).',
    accepted: 'otlp, none',
    default: 'otlp',
    parse: (raw, name) => parseTracesExporter(raw, name),
  }),
  OTEL_TRACES_SAMPLER: variable({
    description:
      "Which traces are recorded. The `parentbased_*` samplers and `xray` follow the caller's `Sampled=` flag, and decide themselves when it is `?` or absent. `xray` follows the sampling rules set in the X-Ray console, read through the X-Ray daemon or the ADOT collector's `awsproxy` extension (needs `@opentelemetry/sampler-aws-xray`), with X-Ray's default rule (1 trace per second, then 5 %) while they cannot be read.",
    accepted: tracesSamplers.join(', '),
    default:
      "`parentbased_always_on`; on an AWS platform with `tracing.mode` `auto`, X-Ray's default rule, parent-based (ECS and EKS are recognised; App Runner and others are named by `cloud.platform` in `OTEL_RESOURCE_ATTRIBUTES`, such as `aws_app_runner`)",
    parse: (raw, name) => parseTracesSampler(raw, name),
  }),
  OTEL_TRACES_SAMPLER_ARG: variable({
    description:
      'The ratio of the `traceidratio` samplers; for `xray`, where the rules are read and how often.',
    accepted:
      'a number from 0 to 1; for `xray`, `endpoint=<http URL>,polling_interval=<seconds from 10 to 86400>`',
    default: '1; for `xray`, `endpoint=http://localhost:2000,polling_interval=300`',
    parse: (raw) => raw.trim(),
  }),
  OTEL_PROPAGATORS: variable({
    description:
      'The trace headers read from requests and written on outgoing calls; `tracing.propagators` wins over it. When a request carries several, the last in the list that names a parent span is continued. Names the kit does not support (`b3`, `jaeger`) are left out, with a warning at start-up.',
    accepted: 'comma-separated `tracecontext`, `baggage`, `xray`; or `none`',
    default:
      '`xray,tracecontext,baggage`: X-Ray and W3C Trace Context as AWS Distro for OpenTelemetry JS reads them, and W3C Baggage',
    parse: (raw) => parsePropagatorsText(raw),
  }),
  OTEL_RESOURCE_ATTRIBUTES: variable({
    description:
      "More resource attributes on every span, such as `deployment.environment.name=prod`; they win over the detected `cloud.*` ones. A `cloud.platform` here is the platform the kit assumes: an AWS value (such as `aws_app_runner`) as detected ones are, another cloud's keeps the kit's own `cloud.*` attributes and X-Ray's default sampler off. `service.name` and `service.version` here name the service (log lines too) when no option, `SERVICE_NAME`, `OTEL_SERVICE_NAME` or `SERVICE_VERSION` does. A pair that cannot be read fails the start where OpenTelemetry traces; elsewhere it is left out, with a warning (`createLogger` leaves it out silently).",
    accepted: 'comma-separated `key=value` pairs, values percent-encoded',
    default: 'unset',
    // Refused by parseTracingConfig where OpenTelemetry traces; elsewhere a pair it cannot read is left out.
    parse: (raw) => readResourceAttributes(raw),
  }),
  OTEL_SDK_DISABLED: variable({
    description: '`true` keeps tracing off in `auto` mode.',
    accepted: 'true, false',
    default: 'false',
    parse: (raw, name) => parseBooleanText(raw, name),
  }),
  OTEL_BSP_SCHEDULE_DELAY: sdkVariable(
    'How long ended spans wait in the batch span processor before an export.',
    '5000',
    0,
    'milliseconds',
  ),
  // Not 0: every export would time out at once.
  OTEL_BSP_EXPORT_TIMEOUT: sdkVariable(
    'How long the batch span processor waits for one export.',
    '30000',
    1,
    'milliseconds',
  ),
  OTEL_BSP_MAX_QUEUE_SIZE: sdkVariable(
    'How many ended spans wait for export; beyond it new spans are dropped, and counted on the export outage lines.',
    '2048',
    1,
  ),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: sdkVariable(
    'Spans per export, at most `OTEL_BSP_MAX_QUEUE_SIZE`.',
    '512',
    1,
  ),
  OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: sdkVariable(
    'Longest string attribute value on a span; longer ones are cut.',
    'no limit',
    0,
  ),
  OTEL_ATTRIBUTE_COUNT_LIMIT: sdkVariable('Most attributes on a span; more are dropped.', '128', 0),
  OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: sdkVariable(
    'Longest string attribute value on a span; wins over `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`.',
    '`OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`',
    0,
  ),
  OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: sdkVariable(
    'Most attributes on a span; wins over `OTEL_ATTRIBUTE_COUNT_LIMIT`.',
    '`OTEL_ATTRIBUTE_COUNT_LIMIT`',
    0,
  ),
  OTEL_SPAN_EVENT_COUNT_LIMIT: sdkVariable(
    'Most events (recorded exceptions among them) on a span.',
    '128',
    0,
  ),
  OTEL_SPAN_LINK_COUNT_LIMIT: sdkVariable('Most links on a span.', '128', 0),
  OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT: sdkVariable('Most attributes on a span event.', '128', 0),
  OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT: sdkVariable('Most attributes on a span link.', '128', 0),
  AWS_XRAY_DAEMON_ADDRESS: variable({
    description:
      'Address of the X-Ray daemon: segments go there over UDP, and centralized sampling rules come from it over TCP. In `auto` mode, setting it (and no `OTEL_*` endpoint or exporter, which win) traces through the X-Ray SDK. Read only when the X-Ray SDK traces: otherwise a value the kit cannot read is left out, with a warning.',
    accepted: '`host:port`, or `udp:host:port tcp:host:port`',
    default: 'unset (`127.0.0.1:2000` in `xray` mode)',
    // Read by parseTracingConfig, where it knows whether the X-Ray SDK traces.
    parse: (raw) => raw.trim(),
  }),
  AWS_XRAY_TRACING_NAME: variable({
    description:
      "Name of the segments where the X-Ray SDK traces, as the SDK's middleware reads it: it wins over the service name (`options.service` included), as it wins over the name given to the SDK's `openSegment`, and names nothing else (log lines and metrics keep the service). Not read where OpenTelemetry traces, which names segments by `service.name`: a warning at start says so.",
    accepted: 'a segment name: characters X-Ray does not accept become `_`, and it is cut at 200',
    default: 'unset: the service name',
    // Read only where the X-Ray SDK traces, and sanitised there as every segment name is.
    parse: (raw) => raw.trim(),
  }),
  ECS_CONTAINER_METADATA_URI_V4: variable({
    description:
      "Set by ECS (Fargate too): spans get `cloud.platform=aws_ecs`, and the task's attributes with `@opentelemetry/resource-detector-aws` installed. A `cloud.platform` in `OTEL_RESOURCE_ATTRIBUTES` wins.",
    accepted: 'a URL',
    default: 'unset',
    parse: (raw, name) => parsePlatformMarker(raw, name),
  }),
  KUBERNETES_SERVICE_HOST: variable({
    description:
      'Set by Kubernetes: with AWS beside it (`AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_ROLE_ARN` or `AWS_CONTAINER_CREDENTIALS_FULL_URI`), spans get `cloud.platform=aws_eks`; alone it names no platform (any cluster sets it). A `cloud.platform` in `OTEL_RESOURCE_ATTRIBUTES` wins.',
    accepted: 'an address',
    default: 'unset',
    parse: (raw, name) => parsePlatformMarker(raw, name),
  }),
  AWS_ROLE_ARN: variable({
    description:
      'Set in EKS pods by IAM roles for service accounts (and read by the AWS SDK): beside `KUBERNETES_SERVICE_HOST`, it tells the kit the cluster is EKS.',
    accepted: 'an IAM role ARN',
    default: 'unset',
    // Only whether it is set counts here: the AWS SDK reads the value.
    parse: (raw) => raw.trim(),
  }),
  AWS_CONTAINER_CREDENTIALS_FULL_URI: variable({
    description:
      'Set by EKS Pod Identity (and read by the AWS SDK): beside `KUBERNETES_SERVICE_HOST`, it tells the kit the cluster is EKS.',
    accepted: 'a URL',
    default: 'unset',
    // Only whether it is set counts here: the AWS SDK reads the value.
    parse: (raw) => raw.trim(),
  }),
  WEB_CONCURRENCY: variable({
    description:
      'How many workers `runCluster` forks (the variable Heroku and others set to a process count); its `workers` option wins over it. `bootstrapAppRunner` does not read it.',
    accepted: 'an integer from 1 to 1024',
    default: '`os.availableParallelism()`: one worker per vCPU',
    // Read by runCluster alone: a value set for another tool must not fail a start without a cluster.
    parse: (raw) => raw.trim(),
  }),
  NODE_OPTIONS: variable({
    description:
      "Node's own options; the kit reads `--unhandled-rejections` there and on the command line: `warn`, `none` or `warn-with-error-code` makes `'log'` the default of `shutdown.unhandledRejection` (so does `unhandled-rejections` in the `nodeOptions` of Node's config file, below the command line, while this variable is unset: set at all, even empty, it stands in for the file's `nodeOptions`, in Node and in the kit; see Node's config file below). It reads Node's switches for warnings too: `--no-warnings`, `--disable-warning` and `--redirect-warnings` (see docs/logging.md).",
    accepted: "Node's options",
    default: 'unset',
    parse: (raw) => raw,
  }),
  NODE_NO_WARNINGS: variable({
    description:
      "Node's own: `1` silences process warnings, and the kit then writes no `warn` line for them either.",
    accepted: '`1`, or anything else (ignored, as Node ignores it)',
    default: 'unset',
    // Node compares it with '1' and accepts anything: a start must not fail on it.
    parse: (raw) => raw,
  }),
  npm_lifecycle_event: variable({
    description:
      "Set by npm in the scripts it runs (`npm start`, `npm run …`): on an AWS platform the kit warns at start, as npm does not pass the platform's SIGTERM on to the app (see docs/shutdown.md, Launchers and process managers).",
    accepted: 'a script name',
    default: 'unset',
    // Only whether it is set counts, and the name, which the warning quotes.
    parse: (raw) => raw.trim(),
  }),
  NODE_RUN_SCRIPT_NAME: variable({
    description:
      "Set by `node --run` in the scripts it runs: on an AWS platform the kit warns at start, as `node --run` does not pass the platform's SIGTERM on to the app.",
    accepted: 'a script name',
    default: 'unset',
    parse: (raw) => raw.trim(),
  }),
  pm_id: variable({
    description:
      "Set by pm2 in the apps it runs: the kit then checks `kill_timeout`, answers pm2's `shutdown` message (`shutdown_with_message`) and sends `ready` (`wait_ready`).",
    accepted: "pm2's process id",
    default: 'unset',
    parse: (raw) => raw.trim(),
  }),
  kill_timeout: variable({
    description:
      "Set by pm2 from the app's `kill_timeout`: how long pm2 waits after its stop signal before SIGKILL. Under pm2, a value below `shutdown.timeoutMs` plus 1000 (or none: pm2 then waits 1600 ms) is warned of at start.",
    accepted: 'milliseconds, an integer',
    default: "unset (pm2's default, 1600)",
    // Read by the launcher check, which warns of a value it cannot read rather than failing the start.
    parse: (raw) => raw.trim(),
  }),
  shutdown_with_message: variable({
    description:
      "Set by pm2 from the app's `shutdown_with_message`: pm2 then stops the app with the IPC message `shutdown` instead of a signal, and the kit starts its shutdown on that message.",
    accepted: '`true`',
    default: 'unset',
    parse: (raw) => raw.trim().toLowerCase() === 'true',
  }),
  wait_ready: variable({
    description:
      "Set by pm2 from the app's `wait_ready`: pm2 then waits for the IPC message `ready`, which the kit sends once its server listens.",
    accepted: '`true`',
    default: 'unset',
    parse: (raw) => raw.trim().toLowerCase() === 'true',
  }),
});

type Schema = typeof environmentSchema;

/** The parsed environment: each variable the kit reads, `undefined` when unset or empty. */
export type ParsedEnvironment = {
  readonly [K in keyof Schema]: ReturnType<Schema[K]['parse']> | undefined;
};

/** Parses every variable of {@link environmentSchema} from `env`; an empty value counts as unset. */
export function parseEnvironment(env: Readonly<Record<string, string | undefined>>): ParsedEnvironment {
  return parseVariables(env, Object.keys(environmentSchema) as (keyof Schema)[]) as ParsedEnvironment;
}

/** Parses the variables `names` of {@link environmentSchema} from `env`; an empty value counts as unset. */
export function parseVariables<K extends keyof Schema>(
  env: Readonly<Record<string, string | undefined>>,
  names: readonly K[],
): Pick<ParsedEnvironment, K> {
  const parsed: Record<string, unknown> = {};
  for (const name of names) {
    const raw = env[name];
    const spec = environmentSchema[name] as EnvironmentVariable<unknown>;
    parsed[name] = raw === undefined || raw.trim() === '' ? undefined : spec.parse(raw, name);
  }
  return parsed as Pick<ParsedEnvironment, K>;
}

/** Renders the README's Markdown table of environment variables from {@link environmentSchema}. */
export function renderEnvironmentTable(): string {
  const rows = Object.entries(environmentSchema).map(
    ([name, spec]) => `| \`${name}\` | ${spec.accepted} | ${spec.default} | ${spec.description} |`,
  );
  return [
    '| Variable | Accepted values | Default | What it does |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
