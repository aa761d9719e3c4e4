import { getRequestContext } from '../../http/context.js';
import type { CallOutcome, ClientSpan, TracingBackend } from '../backend.js';
import { globalTracingSuppressed } from '../global-otel.js';
import { addPropagationHeaders, type PropagationHeader } from '../propagation.js';
import type { AwsBuildMiddleware, InstrumentableAwsClient } from '../tracer.js';
import type { InstrumentationFailures } from './failures.js';

/** The name of the kit's middleware in the client's stack. */
export const awsMiddlewareName = 'apprunnerKitTracing';

interface ResponseMetadata {
  readonly httpStatusCode?: number;
  readonly requestId?: string;
  readonly attempts?: number;
}

function metadataOf(value: unknown): ResponseMetadata {
  const metadata = (value as { $metadata?: unknown } | null)?.$metadata;
  return typeof metadata === 'object' && metadata !== null ? (metadata as ResponseMetadata) : {};
}

function outcome(value: unknown, error?: unknown): CallOutcome {
  const { httpStatusCode, requestId, attempts } = metadataOf(value);
  return {
    statusCode: typeof httpStatusCode === 'number' ? httpStatusCode : undefined,
    requestId: typeof requestId === 'string' ? requestId : undefined,
    attempts: typeof attempts === 'number' ? attempts : undefined,
    error,
    ...(error === undefined ? { output: value } : {}),
  };
}

async function regionOf(client: InstrumentableAwsClient): Promise<string | undefined> {
  const region = (client.config as { region?: unknown } | undefined)?.region;
  try {
    const value = typeof region === 'function' ? await (region as () => unknown)() : region;
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

function headersOf(request: unknown): Record<string, unknown> | undefined {
  const headers = (request as { headers?: unknown } | null)?.headers;
  return typeof headers === 'object' && headers !== null ? (headers as Record<string, unknown>) : undefined;
}

/**
 * Sets the trace headers on an SDK request. `X-Amzn-Trace-Id` replaces any the SDK set (its
 * recursion-detection middleware copies Lambda's trace there); the others go unless set.
 */
function setTraceHeaders(request: unknown, traceHeaders: readonly PropagationHeader[]): void {
  const headers = headersOf(request);
  if (headers === undefined) return;
  const names = Object.keys(headers);
  const get = (name: string) => {
    const existing = names.find((key) => key.toLowerCase() === name);
    return existing === undefined ? undefined : String(headers[existing]);
  };
  addPropagationHeaders(
    traceHeaders,
    (name) => (name === 'x-amzn-trace-id' ? undefined : get(name)),
    (name, value) => {
      if (name === 'x-amzn-trace-id') {
        for (const existing of names) if (existing.toLowerCase() === name) delete headers[existing];
        headers['X-Amzn-Trace-Id'] = value;
      } else {
        headers[name] = value;
      }
    },
  );
}

/** Sets the request id of the current request on an SDK request, unless the caller set that header. */
function setRequestId(request: unknown, header: string): void {
  const headers = headersOf(request);
  const context = getRequestContext();
  if (headers === undefined || context === undefined) return;
  for (const name of Object.keys(headers)) if (name.toLowerCase() === header) return;
  headers[header] = context.requestId;
}

/**
 * Traces an AWS SDK v3 client with one middleware in the `build` step, which runs once per
 * `send()`, above the retry loop (the `finalizeRequest` step): one client span per SDK call, with
 * its retries inside. The request gets the trace headers (X-Ray links the call to the service's own
 * segment by `X-Amzn-Trace-Id`), and the HTTP requests below run with tracing suppressed, so the node:http
 * instrumentation adds no span per attempt. Calls outside any request or span are not traced.
 * Within a request, the call also carries the request id header (`requestIdHeader`), unless set.
 * A call made where tracing is suppressed in OpenTelemetry's global context (`suppressTracing()`)
 * gets neither span nor header.
 */
export function instrumentAwsClient<C extends InstrumentableAwsClient>(
  client: C,
  backend: TracingBackend,
  failures: InstrumentationFailures,
  requestIdHeader?: string,
): C {
  const middleware: AwsBuildMiddleware = (next, context) => async (args) => {
    // An SDK's own call (made with tracing suppressed in OpenTelemetry's global context): left as it is.
    if (globalTracingSuppressed()) return next(args);
    if (requestIdHeader !== undefined) setRequestId(args.request, requestIdHeader);
    let span: ClientSpan | undefined;
    try {
      span = backend.startClientSpan({
        kind: 'aws',
        service: (context.clientName ?? 'AWS').replace(/Client$/, ''),
        operation: (context.commandName ?? 'Call').replace(/Command$/, ''),
        region: await regionOf(client),
        input: args.input,
      });
      if (span !== undefined) setTraceHeaders(args.request, span.headers);
    } catch (error) {
      failures.report('starting an AWS SDK span', error);
    }
    if (span === undefined) return next(args);
    const traced = span;
    return backend.withClientSpan(traced, async () => {
      try {
        const result = await next(args);
        traced.end(outcome(result.output));
        return result;
      } catch (error) {
        traced.end(outcome(error, error));
        throw error;
      }
    });
  };
  client.middlewareStack.add(middleware, {
    step: 'build',
    name: awsMiddlewareName,
    override: true,
    tags: ['TRACING'],
  });
  return client;
}
