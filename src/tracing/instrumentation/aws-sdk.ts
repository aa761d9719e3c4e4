import { getRequestContext } from '../../http/context.js';
import type { CallOutcome, ClientSpan, TracingBackend } from '../backend.js';
import { globalTracingSuppressed } from '../global-otel.js';
import { addPropagationHeaders, type PropagationHeader } from '../propagation.js';
import type {
  AwsBuildMiddleware,
  AwsFinalizeRequestMiddleware,
  AwsHandlerContext,
  AwsHandlerOutput,
  InstrumentableAwsClient,
} from '../tracer.js';
import type { InstrumentationFailures } from './failures.js';

/** The name of the kit's middleware in the client's stack: the span around each `send()`. */
export const awsMiddlewareName = 'apprunnerKitTracing';

/** The name of the kit's middleware that adds its headers to each signed attempt. */
export const awsHeadersMiddlewareName = 'apprunnerKitTraceHeaders';

interface ResponseMetadata {
  readonly httpStatusCode?: number;
  readonly requestId?: string;
  readonly extendedRequestId?: string;
  readonly attempts?: number;
}

function metadataOf(value: unknown): ResponseMetadata {
  const metadata = (value as { $metadata?: unknown } | null)?.$metadata;
  return typeof metadata === 'object' && metadata !== null ? (metadata as ResponseMetadata) : {};
}

/** The `content-length` of a response the SDK read (its handlers give header names in lower case). */
function contentLengthOf(response: unknown): number | undefined {
  const value = (response as { headers?: Record<string, unknown> } | null)?.headers?.['content-length'];
  const length = typeof value === 'string' ? Number(value) : undefined;
  return length !== undefined && Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

function outcome(value: unknown, error?: unknown, response?: unknown): CallOutcome {
  const { httpStatusCode, requestId, extendedRequestId, attempts } = metadataOf(value);
  return {
    statusCode: typeof httpStatusCode === 'number' ? httpStatusCode : undefined,
    requestId: typeof requestId === 'string' ? requestId : undefined,
    extendedRequestId: typeof extendedRequestId === 'string' ? extendedRequestId : undefined,
    attempts: typeof attempts === 'number' ? attempts : undefined,
    contentLength: contentLengthOf(response),
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
function setTraceHeaders(headers: Record<string, unknown>, traceHeaders: readonly PropagationHeader[]): void {
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

/** Sets the request id header on an SDK request, unless the caller set that header. */
function setRequestId(headers: Record<string, unknown>, header: string, requestId: string): void {
  for (const name of Object.keys(headers)) if (name.toLowerCase() === header) return;
  headers[header] = requestId;
}

/** What the span middleware of one `send()` hands its headers middleware, on the SDK's context. */
interface CallHeaders {
  /** The request id header and value, when the call is made within a request. */
  readonly requestId: readonly [header: string, value: string] | undefined;
  /** The span's trace headers; empty when the call has no span. */
  traceHeaders: readonly PropagationHeader[];
  /** Set by the headers middleware: an attempt reached the transport. */
  sent: boolean;
}

/** Where {@link CallHeaders} sit on the SDK's per-call context (a plain object of its own). */
const callHeaders = Symbol('apprunnerKitCallHeaders');

type ContextWithHeaders = AwsHandlerContext & { [callHeaders]?: CallHeaders };

/**
 * Traces an AWS SDK v3 client with two middlewares:
 * - in the `build` step, which runs once per `send()`, above the retry loop (the `finalizeRequest`
 *   step): one client span per SDK call, with its retries inside, the HTTP requests below run with
 *   tracing suppressed (the node:http instrumentation adds no span per attempt);
 * - at the end of the `finalizeRequest` step (priority `low`), after the SDK has signed the attempt:
 *   the trace headers (X-Ray links the call to the service's own segment by `X-Amzn-Trace-Id`) and,
 *   within a request, the request id header (`requestIdHeader`), unless set. Added after signing,
 *   none is in the SigV4 signature: a proxy that rewrites them breaks nothing, and a presigned URL
 *   (`getSignedUrl`, whose middleware answers before the signer) never signs them.
 * A call that sent nothing and succeeded (a presigned URL) leaves no span. Calls outside any request
 * or span are not traced. A call made where tracing is suppressed in OpenTelemetry's global context
 * (`suppressTracing()`) gets neither span nor header.
 */
export function instrumentAwsClient<C extends InstrumentableAwsClient>(
  client: C,
  backend: TracingBackend,
  failures: InstrumentationFailures,
  requestIdHeader?: string,
): C {
  const spanMiddleware: AwsBuildMiddleware = (next, context) => async (args) => {
    // An SDK's own call (made with tracing suppressed in OpenTelemetry's global context): left as it is.
    if (globalTracingSuppressed()) return next(args);
    const request = requestIdHeader === undefined ? undefined : getRequestContext();
    const headers: CallHeaders = {
      requestId: request === undefined ? undefined : [requestIdHeader!, request.requestId],
      traceHeaders: [],
      sent: false,
    };
    (context as ContextWithHeaders)[callHeaders] = headers;
    let span: ClientSpan | undefined;
    try {
      span = backend.startClientSpan({
        kind: 'aws',
        service: (context.clientName ?? 'AWS').replace(/Client$/, ''),
        operation: (context.commandName ?? 'Call').replace(/Command$/, ''),
        region: await regionOf(client),
        input: args.input,
      });
      if (span !== undefined) headers.traceHeaders = span.headers;
    } catch (error) {
      failures.report('starting an AWS SDK span', error);
    }
    if (span === undefined) return next(args);
    const traced = span;
    return backend.withClientSpan(traced, async () => {
      let result: AwsHandlerOutput;
      try {
        result = await next(args);
      } catch (error) {
        traced.end(outcome(error, error));
        throw error;
      }
      // Nothing went on the wire: a presigned URL (`getSignedUrl` answers in the stack), no call.
      if (headers.sent) traced.end(outcome(result.output, undefined, result.response));
      else traced.discard();
      return result;
    });
  };
  const headersMiddleware: AwsFinalizeRequestMiddleware = (next, context) => (args) => {
    const call = (context as ContextWithHeaders)[callHeaders];
    if (call === undefined) return next(args);
    call.sent = true;
    const headers = headersOf(args.request);
    if (headers !== undefined) {
      if (call.requestId !== undefined) setRequestId(headers, call.requestId[0], call.requestId[1]);
      if (call.traceHeaders.length > 0) setTraceHeaders(headers, call.traceHeaders);
    }
    return next(args);
  };
  client.middlewareStack.add(spanMiddleware, {
    step: 'build',
    name: awsMiddlewareName,
    override: true,
    tags: ['TRACING'],
  });
  // Priority `low`: after the signer, which the SDK places relative to its retry middleware (priority
  // `high`), so on every attempt. Placed relative to the signer by name instead, every `send()` of a
  // stack without one would throw.
  client.middlewareStack.add(headersMiddleware, {
    step: 'finalizeRequest',
    priority: 'low',
    name: awsHeadersMiddlewareName,
    override: true,
    tags: ['TRACING'],
  });
  return client;
}
