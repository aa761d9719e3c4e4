import { type OtlpProtocol, type TracingConfig, withQueryMasked } from '../../config/tracing.js';

/** Where and how spans are exported. */
export interface ExportTarget {
  readonly protocol: OtlpProtocol;
  /** The exporter's `url`: the full traces URL for HTTP, `http(s)://host:port` for gRPC. */
  readonly url: string;
  /** `url` as log lines show it: the values of its query masked. */
  readonly shownUrl: string;
  /** The exporter's timeout, retries included; `undefined`: the exporter's default (10 s). */
  readonly timeoutMs: number | undefined;
  /** Why this protocol: a variable, port 4317, or the OpenTelemetry default. */
  readonly protocolFrom:
    | 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    | 'OTEL_EXPORTER_OTLP_PROTOCOL'
    | 'port 4317'
    | 'default';
}

const defaultHttpUrl = 'http://localhost:4318/v1/traces';
const defaultGrpcUrl = 'http://localhost:4317';

function portOf(url: string): number | undefined {
  try {
    const port = new URL(url).port;
    return port === '' ? undefined : Number(port);
  } catch {
    return undefined;
  }
}

/**
 * Resolves the OTLP protocol and URL as the OpenTelemetry spec does — the traces variables win over
 * the general ones; for HTTP, `/v1/traces` is appended to `OTEL_EXPORTER_OTLP_ENDPOINT` but not to
 * the traces endpoint — with one deviation: with no protocol variable, an endpoint on port 4317 is
 * exported to over gRPC (App Runner's docs give `http://localhost:4317`, and its collector takes
 * gRPC there), where the spec's default would send HTTP/protobuf to a gRPC port.
 */
export function resolveExportTarget(
  config: Pick<
    TracingConfig,
    'endpoint' | 'tracesEndpoint' | 'protocol' | 'tracesProtocol' | 'exportTimeoutMs'
  >,
): ExportTarget {
  const endpoint = config.tracesEndpoint ?? config.endpoint;
  let protocol: OtlpProtocol;
  let protocolFrom: ExportTarget['protocolFrom'];
  if (config.tracesProtocol !== undefined) {
    protocol = config.tracesProtocol;
    protocolFrom = 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL';
  } else if (config.protocol !== undefined) {
    protocol = config.protocol;
    protocolFrom = 'OTEL_EXPORTER_OTLP_PROTOCOL';
  } else if (endpoint !== undefined && portOf(endpoint) === 4317) {
    protocol = 'grpc';
    protocolFrom = 'port 4317';
  } else {
    protocol = 'http/protobuf';
    protocolFrom = 'default';
  }
  const timeoutMs = config.exportTimeoutMs;
  const url =
    protocol === 'grpc'
      ? (endpoint ?? defaultGrpcUrl)
      : (config.tracesEndpoint ??
        (config.endpoint === undefined ? defaultHttpUrl : withSignalPath(config.endpoint)));
  return { protocol, url, shownUrl: withQueryMasked(url), timeoutMs, protocolFrom };
}

/** `endpoint` with `/v1/traces` appended to its path: before its query, which it keeps. */
function withSignalPath(endpoint: string): string {
  const url = new URL(endpoint);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url.toString();
}
