import { ConfigurationError } from '../errors.js';
import { resolveTracingMode, type TracingPlan } from '../tracing/mode.js';
import { parseXrayOptions, type XrayConfig } from '../tracing/xray/options.js';
import type { ParsedEnvironment } from './environment.js';
import { type OtelSdkSettings, otelSdkSettings } from './otel-sdk.js';
import { invalid, parseBoolean, parseEnum, parseName, parseSection } from './parse.js';
import { type CloudPlatform, recognisePlatform } from './platform.js';
import { type ResourceAttributesText, requireResourceAttributes } from './resource-attributes.js';

/** The tracing modes `tracing.mode` accepts. */
export const tracingModes = ['auto', 'otel', 'xray', 'off'] as const;

/**
 * How the kit traces: `'auto'` picks from the environment (OpenTelemetry when an `OTEL_EXPORTER_OTLP_*`
 * endpoint or `OTEL_TRACES_EXPORTER` is set, else the X-Ray SDK when `AWS_XRAY_DAEMON_ADDRESS` is,
 * else off; off when another SDK registered OpenTelemetry's global tracer provider), `'otel'` traces
 * through OpenTelemetry, `'xray'` through the X-Ray SDK and its daemon, `'off'` does not trace (the
 * trace id of an incoming `X-Amzn-Trace-Id`, or of another SDK's span, still reaches the logs).
 */
export type TracingMode = (typeof tracingModes)[number];

/** The OTLP transports the kit can export over. */
export const otlpProtocols = ['grpc', 'http/protobuf', 'http/json'] as const;

/** An OTLP transport, as `OTEL_EXPORTER_OTLP_PROTOCOL` names it. */
export type OtlpProtocol = (typeof otlpProtocols)[number];

/** The samplers `OTEL_TRACES_SAMPLER` may name. */
export const tracesSamplers = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
  'xray',
] as const;

/** A sampler, as `OTEL_TRACES_SAMPLER` names it. */
export type TracesSampler = (typeof tracesSamplers)[number];

/** The values of `OTEL_TRACES_EXPORTER` the kit accepts. */
export const tracesExporters = ['otlp', 'none'] as const;

/** The trace headers the kit reads from requests and writes on outgoing calls, as `OTEL_PROPAGATORS` names them. */
export const tracePropagators = ['tracecontext', 'baggage', 'xray'] as const;

/**
 * A trace header format: `'tracecontext'` (W3C `traceparent` and `tracestate`), `'baggage'` (W3C
 * `baggage`), `'xray'` (`X-Amzn-Trace-Id`).
 */
export type TracePropagator = (typeof tracePropagators)[number];

/**
 * The propagators when neither `tracing.propagators` nor `OTEL_PROPAGATORS` names any: X-Ray's header
 * and W3C Trace Context in the order AWS Distro for OpenTelemetry JS reads them (a `traceparent` wins
 * over an `X-Amzn-Trace-Id` naming another parent), and W3C Baggage, as OpenTelemetry's own default.
 */
export const defaultPropagators: readonly TracePropagator[] = Object.freeze([
  'xray',
  'tracecontext',
  'baggage',
]);

/** `OTEL_PROPAGATORS` parsed: what the kit uses, and the names it does not know (warned about at start-up). */
export interface PropagatorsSetting {
  readonly propagators: readonly TracePropagator[];
  readonly ignored: readonly string[];
}

/**
 * `OTEL_PROPAGATORS`: comma-separated names, in the order that decides which header a request
 * continues when it carries both (the last that names a parent span). `none` alone turns
 * propagation off. A name the kit does not support (`b3`, `jaeger`) is left out and reported, as
 * OpenTelemetry's SDKs do, rather than failing the start: the variable is often set for a whole
 * fleet. Never throws.
 */
export function parsePropagatorsText(raw: string): PropagatorsSetting {
  const names = raw
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '');
  // `none` alone turns propagation off; beside other names it means nothing, and is reported.
  if (names.length > 0 && names.every((part) => part === 'none')) return { propagators: [], ignored: [] };
  const propagators: TracePropagator[] = [];
  const ignored: string[] = [];
  for (const part of names) {
    if ((tracePropagators as readonly string[]).includes(part)) {
      if (!propagators.includes(part as TracePropagator)) propagators.push(part as TracePropagator);
    } else if (!ignored.includes(part)) {
      ignored.push(part.length > 40 ? `${part.slice(0, 40)}…` : part);
    }
  }
  return { propagators, ignored };
}

/** `tracing.propagators`: an array of {@link tracePropagators}, each once (empty: none). */
function parsePropagatorsOption(value: unknown): readonly TracePropagator[] {
  const field = 'tracing.propagators';
  const accepted = `an array of ${tracePropagators.map((p) => `"${p}"`).join(', ')}, each at most once ([] sends and reads no trace header)`;
  if (!Array.isArray(value)) invalid(field, value, accepted);
  const propagators: TracePropagator[] = [];
  for (const item of value as unknown[]) {
    // The item is named: "received an array" would not say which one is wrong.
    if (
      !(tracePropagators as readonly unknown[]).includes(item) ||
      propagators.includes(item as TracePropagator)
    )
      invalid(field, item, accepted);
    propagators.push(item as TracePropagator);
  }
  return Object.freeze(propagators);
}

export type { CloudPlatform } from './platform.js';

/** The validated tracing settings: the option, and the environment variables tracing reads. */
export interface TracingConfig {
  /** The mode asked for (`auto` is resolved when tracing starts): `tracing.mode`, else `TRACING_MODE`, else `auto`. */
  readonly mode: TracingMode;
  /** Where `mode` came from, for the lines that name it. */
  readonly modeSource: 'option' | 'TRACING_MODE' | 'default';
  /** Trace outgoing `fetch` (undici) requests. */
  readonly fetch: boolean;
  /** Trace outgoing `node:http` and `node:https` requests. */
  readonly httpClient: boolean;
  /** Copy the request's `addRequestFields` fields to its span (X-Ray: annotations). */
  readonly requestFields: boolean;
  /** The trace headers read and written, in order: `tracing.propagators`, else `OTEL_PROPAGATORS`, else `xray`, `tracecontext`, `baggage`. */
  readonly propagators: readonly TracePropagator[];
  /** Names in `OTEL_PROPAGATORS` the kit does not support, left out (warned about when tracing starts). */
  readonly propagatorsIgnored: readonly string[];
  /** Where `propagators` came from: a list from the environment that leaves out `xray` is warned about. */
  readonly propagatorsSource: 'option' | 'OTEL_PROPAGATORS' | 'default';
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly endpoint: string | undefined;
  /** `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`. */
  readonly tracesEndpoint: string | undefined;
  /** `OTEL_EXPORTER_OTLP_PROTOCOL`. */
  readonly protocol: OtlpProtocol | undefined;
  /** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`. */
  readonly tracesProtocol: OtlpProtocol | undefined;
  /** `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`, in milliseconds. */
  readonly exportTimeoutMs: number | undefined;
  /** `OTEL_TRACES_EXPORTER`. */
  readonly exporter: (typeof tracesExporters)[number] | undefined;
  /** `OTEL_TRACES_SAMPLER`. */
  readonly sampler: TracesSampler | undefined;
  /** `OTEL_TRACES_SAMPLER_ARG`: the ratio of the `traceidratio` samplers. */
  readonly samplerArg: number | undefined;
  /** `OTEL_TRACES_SAMPLER_ARG` of the `xray` sampler: where its rules come from. */
  readonly xrayRules: XrayRulesSource;
  /** `OTEL_RESOURCE_ATTRIBUTES`, decoded. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /**
   * The pairs of `OTEL_RESOURCE_ATTRIBUTES` the kit cannot read, where OpenTelemetry does not trace:
   * left out (warned about when tracing starts). Where it traces, such a pair fails the start.
   */
  readonly resourceAttributesIgnored: readonly string[];
  /** `OTEL_SDK_DISABLED`. */
  readonly sdkDisabled: boolean;
  /** `OTEL_BSP_*` and the span limits, with their defaults: the kit passes them to either SDK line. */
  readonly sdk: OtelSdkSettings;
  /** `AWS_XRAY_DAEMON_ADDRESS`. */
  readonly xrayDaemonAddress: XrayDaemonAddress | undefined;
  /**
   * `AWS_XRAY_DAEMON_ADDRESS` as set, when the kit cannot read it and the X-Ray SDK does not trace:
   * left out (warned about when tracing starts).
   */
  readonly xrayDaemonAddressIgnored: string | undefined;
  /** `AWS_XRAY_TRACING_NAME`: the X-Ray SDK backend's segment name, over the service's. */
  readonly xrayTracingName: string | undefined;
  /** `tracing.xray`: the X-Ray SDK backend's sampling. */
  readonly xray: XrayConfig;
  /**
   * The AWS platform the kit assumes: `cloud.platform` in `OTEL_RESOURCE_ATTRIBUTES`, else `aws_ecs`
   * from `ECS_CONTAINER_METADATA_URI_V4`, else `aws_eks` from `KUBERNETES_SERVICE_HOST` with
   * `AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_ROLE_ARN` or `AWS_CONTAINER_CREDENTIALS_FULL_URI` beside it.
   */
  readonly platform: CloudPlatform | undefined;
  /** What named or suggested `platform`, as the start-up line says it. */
  readonly platformFrom: string | undefined;
  /** `OTEL_RESOURCE_ATTRIBUTES` names a cloud other than AWS: the kit adds no `cloud.*` attribute. */
  readonly otherCloud: boolean;
}

/** Where the `xray` sampler reads X-Ray's centralized sampling rules and reports its targets. */
export interface XrayRulesSource {
  /** The X-Ray daemon or the ADOT collector's `awsproxy` extension: `http://localhost:2000` by default. */
  readonly endpoint: string;
  /** How often the rules are read again, in seconds: 300 by default. */
  readonly pollingIntervalSeconds: number;
}

/** The rules source of the `xray` sampler when `OTEL_TRACES_SAMPLER_ARG` names none. */
export const defaultXrayRulesSource: XrayRulesSource = Object.freeze({
  endpoint: 'http://localhost:2000',
  pollingIntervalSeconds: 300,
});

/** An `http://` or `https://` URL without credentials, as the OTLP endpoint variables carry it. */
export function parseEndpointUrl(raw: string, name: string): string {
  const text = raw.trim();
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.username !== '' ||
    url.password !== ''
  ) {
    invalid(
      name,
      withoutCredentials(raw),
      'an http:// or https:// URL without credentials, such as http://localhost:4317',
    );
  }
  return text;
}

/**
 * `text` as an error may quote it: what comes before an `@` (a user and a password) and the values
 * of a query masked. The message goes to CloudWatch Logs.
 */
function withoutCredentials(raw: string): string {
  const text = raw.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  // Up to the last `@`: a password may hold `/`, `?`, `#` and `@` itself.
  const at = text.lastIndexOf('@');
  const rest = at === -1 ? text.slice(scheme.length) : text.slice(at);
  return `${scheme}${at === -1 ? '' : '***'}${withQueryMasked(rest)}`;
}

/**
 * `url` with the value of each query (or fragment) parameter masked: some collectors take a token
 * there (`?api_key=…`), and the lines and errors that show an endpoint go to CloudWatch Logs.
 *
 * @example
 * ```ts
 * withQueryMasked('https://otlp.example.com/v1/traces?api_key=abc'); // '…/v1/traces?api_key=***'
 * ```
 */
export function withQueryMasked(url: string): string {
  return url.replace(/([?&#][^=&#]*=)[^&#]*/g, '$1***');
}

/** `grpc`, `http/protobuf` or `http/json`. */
export function parseOtlpProtocol(raw: string, name: string): OtlpProtocol {
  return parseEnum(name, raw.trim().toLowerCase(), otlpProtocols);
}

/** `otlp` or `none`; `console` is refused because stdout carries the JSON logs. */
export function parseTracesExporter(raw: string, name: string): (typeof tracesExporters)[number] {
  const value = raw.trim().toLowerCase();
  if (!(tracesExporters as readonly string[]).includes(value)) {
    invalid(
      name,
      raw,
      '"otlp" or "none" (the kit exports over OTLP only; "console" would mix spans into the JSON logs)',
    );
  }
  return value as (typeof tracesExporters)[number];
}

/** One of {@link tracingModes}, in any case. */
export function parseTracingModeText(raw: string, name: string): TracingMode {
  return parseEnum(name, raw.trim().toLowerCase(), tracingModes);
}

/** One of {@link tracesSamplers}. */
export function parseTracesSampler(raw: string, name: string): TracesSampler {
  return parseEnum(name, raw.trim().toLowerCase(), tracesSamplers);
}

/** A sampling ratio from 0 to 1. */
export function parseSamplerArg(raw: string, name: string): number {
  const n = /^\s*(?:\d+(?:\.\d*)?|\.\d+)\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 0 && n <= 1)) invalid(name, raw, 'a number from 0 to 1, such as 0.1');
  return n;
}

const xrayArgAccepted =
  'comma-separated endpoint=<http URL> and polling_interval=<seconds from 10 to 86400>, such as endpoint=http://localhost:2000,polling_interval=300';

/**
 * The `xray` sampler's `OTEL_TRACES_SAMPLER_ARG`, as AWS's OpenTelemetry distribution writes it:
 * `endpoint=http://localhost:2000,polling_interval=300`; either key may be left out.
 */
export function parseXrayRulesSource(raw: string, name: string): XrayRulesSource {
  let endpoint = defaultXrayRulesSource.endpoint;
  let pollingIntervalSeconds = defaultXrayRulesSource.pollingIntervalSeconds;
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const at = part.indexOf('=');
    const key = at < 0 ? part.trim() : part.slice(0, at).trim();
    const value = at < 0 ? '' : part.slice(at + 1).trim();
    if (key === 'endpoint') {
      endpoint = parseEndpointUrl(value, name).replace(/\/+$/, '');
    } else if (key === 'polling_interval') {
      const seconds = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
      if (!(seconds >= 10 && seconds <= 86_400)) invalid(name, raw, xrayArgAccepted);
      pollingIntervalSeconds = seconds;
    } else {
      invalid(name, raw, xrayArgAccepted);
    }
  }
  return { endpoint, pollingIntervalSeconds };
}

/** `true` or `false`, in any case. */
export function parseBooleanText(raw: string, name: string): boolean {
  const value = raw.trim().toLowerCase();
  if (value !== 'true' && value !== 'false') invalid(name, raw, '"true" or "false"');
  return value === 'true';
}

/** One address of the X-Ray daemon. */
export interface DaemonEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Where the X-Ray daemon listens: segments over UDP, the sampling proxy over TCP (HTTP). */
export interface XrayDaemonAddress {
  readonly udp: DaemonEndpoint;
  readonly tcp: DaemonEndpoint;
}

const daemonEndpointPattern = /^([\w.-]{1,253}):(\d{1,5})$/;

/**
 * `host:port` (UDP and TCP on the same port, as the daemon listens by default), or
 * `udp:host:port tcp:host:port` in either order, as the X-Ray SDKs read `AWS_XRAY_DAEMON_ADDRESS`.
 */
export function parseDaemonAddress(raw: string, name: string): XrayDaemonAddress {
  const accepted = 'host:port (such as 127.0.0.1:2000), or "udp:host:port tcp:host:port"';
  const endpoint = (text: string): DaemonEndpoint => {
    const match = daemonEndpointPattern.exec(text);
    const port = Number(match?.[2]);
    if (match === null || !(port >= 1 && port <= 65_535)) invalid(name, raw, accepted);
    return { host: match[1]!, port };
  };
  const parts = raw.trim().split(/\s+/);
  if (parts.length === 1) {
    const both = endpoint(parts[0]!);
    return { udp: both, tcp: both };
  }
  const found: { udp?: DaemonEndpoint; tcp?: DaemonEndpoint } = {};
  for (const part of parts.length === 2 ? parts : []) {
    const kind = part.slice(0, 4).toLowerCase();
    if ((kind === 'udp:' || kind === 'tcp:') && found[kind === 'udp:' ? 'udp' : 'tcp'] === undefined) {
      found[kind === 'udp:' ? 'udp' : 'tcp'] = endpoint(part.slice(4));
    }
  }
  if (found.udp === undefined || found.tcp === undefined) invalid(name, raw, accepted);
  return { udp: found.udp, tcp: found.tcp };
}

/** A value a platform sets, checked only for being a sane string. */
export function parsePlatformMarker(raw: string, name: string): string {
  return parseName(name, raw, 2048);
}

/**
 * Validates the `tracing` option section and combines it with the environment variables tracing
 * reads. Unknown keys and bad values throw the configuration error naming the field.
 */
export function parseTracingConfig(value: unknown, env: ParsedEnvironment): TracingConfig {
  const section = parseSection('tracing', value, [
    'mode',
    'fetch',
    'httpClient',
    'requestFields',
    'propagators',
    'xray',
  ]);
  const mode =
    section.mode !== undefined
      ? parseEnum('tracing.mode', section.mode, tracingModes)
      : (env.TRACING_MODE ?? 'auto');
  const resourceAttributes = env.OTEL_RESOURCE_ATTRIBUTES?.attributes ?? {};
  // The argument's meaning depends on the sampler: a ratio, or the `xray` sampler's rules endpoint.
  const argName = 'OTEL_TRACES_SAMPLER_ARG';
  const argText = env.OTEL_TRACES_SAMPLER_ARG;
  const xray = env.OTEL_TRACES_SAMPLER === 'xray';
  const fromEnv = section.propagators === undefined ? env.OTEL_PROPAGATORS : undefined;
  const config: Omit<TracingConfig, DerivedFields> = {
    mode,
    modeSource:
      section.mode !== undefined ? 'option' : env.TRACING_MODE !== undefined ? 'TRACING_MODE' : 'default',
    fetch: section.fetch === undefined ? true : parseBoolean('tracing.fetch', section.fetch),
    httpClient:
      section.httpClient === undefined ? true : parseBoolean('tracing.httpClient', section.httpClient),
    requestFields:
      section.requestFields === undefined
        ? false
        : parseBoolean('tracing.requestFields', section.requestFields),
    propagators:
      section.propagators !== undefined
        ? parsePropagatorsOption(section.propagators)
        : (fromEnv?.propagators ?? defaultPropagators),
    propagatorsIgnored: fromEnv?.ignored ?? [],
    propagatorsSource:
      section.propagators !== undefined ? 'option' : fromEnv !== undefined ? 'OTEL_PROPAGATORS' : 'default',
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    tracesEndpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    protocol: env.OTEL_EXPORTER_OTLP_PROTOCOL,
    tracesProtocol: env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    exportTimeoutMs: env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT,
    exporter: env.OTEL_TRACES_EXPORTER,
    sampler: env.OTEL_TRACES_SAMPLER,
    samplerArg: xray || argText === undefined ? undefined : parseSamplerArg(argText, argName),
    xrayRules:
      xray && argText !== undefined ? parseXrayRulesSource(argText, argName) : defaultXrayRulesSource,
    resourceAttributes,
    sdkDisabled: env.OTEL_SDK_DISABLED ?? false,
    sdk: otelSdkSettings(env),
    xrayTracingName: env.AWS_XRAY_TRACING_NAME,
    xray: parseXrayOptions(section.xray),
    ...recognisePlatform(env, resourceAttributes),
  };
  // Which backend traces, the daemon address counted as set whether or not the kit can read it.
  const { backend } = resolveTracingMode({ ...config, xrayDaemonAddress: env.AWS_XRAY_DAEMON_ADDRESS });
  return {
    ...config,
    ...daemonAddress(backend, env.AWS_XRAY_DAEMON_ADDRESS),
    resourceAttributesIgnored: resourceAttributesIgnored(backend, env.OTEL_RESOURCE_ATTRIBUTES),
  };
}

type DaemonAddressFields = 'xrayDaemonAddress' | 'xrayDaemonAddressIgnored';
/** The fields read once the others are known: they depend on whether a backend traces. */
type DerivedFields = DaemonAddressFields | 'resourceAttributesIgnored';

/**
 * The pairs of `OTEL_RESOURCE_ATTRIBUTES` the kit cannot read, left out where OpenTelemetry does not
 * trace (the spec has SDKs warn and go on; the kit keeps its start-up failure where the attributes
 * describe every span).
 *
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`) when OpenTelemetry traces and a pair cannot be read.
 */
function resourceAttributesIgnored(
  backend: TracingPlan['backend'],
  text: ResourceAttributesText | undefined,
): readonly string[] {
  if (text === undefined || text.malformed.length === 0) return [];
  if (backend === 'otel') requireResourceAttributes(text, 'OTEL_RESOURCE_ATTRIBUTES');
  return text.malformed;
}

/**
 * `AWS_XRAY_DAEMON_ADDRESS`, read where the X-Ray SDK traces. Elsewhere it is not used, and a value
 * the kit cannot read (`udp:[fd00::1]:2000`, set fleet-wide) must not fail the start: it is left out.
 */
function daemonAddress(
  backend: TracingPlan['backend'],
  raw: string | undefined,
): Pick<TracingConfig, DaemonAddressFields> {
  const name = 'AWS_XRAY_DAEMON_ADDRESS';
  if (raw === undefined) return { xrayDaemonAddress: undefined, xrayDaemonAddressIgnored: undefined };
  try {
    return { xrayDaemonAddress: parseDaemonAddress(raw, name), xrayDaemonAddressIgnored: undefined };
  } catch (error) {
    if (backend === 'xray' || !(error instanceof ConfigurationError)) throw error;
    return { xrayDaemonAddress: undefined, xrayDaemonAddressIgnored: raw };
  }
}
