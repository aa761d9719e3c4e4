import http, { type IncomingHttpHeaders } from 'node:http';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { BootstrapOptions, NodeRequestListener } from '../../../src/index.js';
import type { AwsEndpoint } from '../../support/aws-endpoint.js';
import type { OtlpCollector, OtlpTransport } from '../../support/otlp-collector.js';
import { startRuntime, type TestRuntime } from '../../support/runtime.js';

/** A well-formed caller: trace, parent span. */
export const callerRoot = '1-5759e988-bd862e3fe1be46a994272793';
export const callerHexRoot = '5759e988bd862e3fe1be46a994272793';
export const callerParent = '53995c3f42cd8ad8';

/** The 32-hex-digit form of an X-Ray trace id, as OTLP carries it. */
export function hexOf(traceId: string): string {
  return traceId.slice(2).replace('-', '');
}

/** The X-Ray form of a 32-hex-digit trace id. */
export function xrayOf(hex: string): string {
  return `1-${hex.slice(0, 8)}-${hex.slice(8)}`;
}

/** The env that points the kit's OTel mode at `collector` over `protocol`. */
export function otlpEnv(collector: OtlpCollector, protocol: OtlpTransport): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: protocol === 'grpc' ? collector.grpcUrl : collector.httpUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  };
}

/**
 * A runtime in `auto` mode exporting to `collector` over `protocol`. `app` gets the runtime through
 * `runtimeRef` (it exists once the promise resolves).
 */
export async function startTraced(
  collector: OtlpCollector,
  protocol: OtlpTransport,
  app: (runtime: TestRuntime['runtime']) => NodeRequestListener,
  options: BootstrapOptions = {},
): Promise<TestRuntime> {
  let started: TestRuntime | undefined;
  const listener: NodeRequestListener = (req, res) => app(started!.runtime)(req, res);
  started = await startRuntime({
    service: 'notes-api',
    version: '1.4.0',
    app: listener,
    ...options,
    env: { ...otlpEnv(collector, protocol), ...options.env },
  });
  return started;
}

/** A Secrets Manager client of `aws`, the AWS endpoint stand-in, with test credentials and 3 attempts. */
export function secretsClient(aws: AwsEndpoint): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: aws.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 3,
  });
}

/**
 * GET `url` with `http.get` (looked up at call time, so the kit's wrapper applies) over the global
 * agent; resolves with the body as text.
 */
export function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/**
 * Two spans that fail as apps make them fail, on `rt`'s tracer: `leaky`, whose error's message holds
 * `secret` (registered for masking first), and `record then rethrow`, OpenTelemetry's idiom (the error
 * recorded, then thrown). Neither rejects.
 */
export async function failingSpans(rt: TestRuntime['runtime'], secret: string): Promise<void> {
  rt.redaction.addValue(secret);
  await rt.tracer
    .span('leaky', async () => {
      throw new Error(`upstream refused ${secret}`);
    })
    .catch(() => undefined);
  await rt.tracer
    .span('record then rethrow', async (span) => {
      const error = new RangeError('declined');
      span.recordError(error);
      throw error;
    })
    .catch(() => undefined);
}

/** A server on 127.0.0.1 that keeps the headers of the last request to each path, and answers `ok`. */
export interface HeaderRecorder {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The headers received, by path (`/upload-fetch`). */
  readonly received: Map<string, IncomingHttpHeaders>;
  close(): Promise<void>;
}

/** Starts a {@link HeaderRecorder}: the service the app under test calls. */
export async function startHeaderRecorder(): Promise<HeaderRecorder> {
  const received = new Map<string, IncomingHttpHeaders>();
  const server = http.createServer((req, res) => {
    received.set(req.url ?? '', req.headers);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
