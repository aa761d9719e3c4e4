import { getRequestContext } from '../http/context.js';
import type { PropagationHeader } from './propagation.js';

/** A span attribute value, as OpenTelemetry accepts it. */
export type SpanAttributeValue =
  | string
  | number
  | boolean
  | readonly string[]
  | readonly number[]
  | readonly boolean[];

/** Span attributes; entries whose value is `undefined` are left out. */
export type SpanAttributes = Readonly<Record<string, SpanAttributeValue | undefined>>;

/** What a span stands for, as OpenTelemetry's `SpanKind` names it. */
export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** Options of {@link RuntimeTracer.span}. */
export interface SpanOptions {
  /** Attributes set when the span starts. */
  readonly attributes?: SpanAttributes;
  /**
   * What the span stands for.
   * @default 'internal'
   */
  readonly kind?: SpanKindName;
  /**
   * The trace to continue instead of the current span's: an `X-Amzn-Trace-Id` value (SQS's
   * `AWSTraceHeader` system attribute) or a W3C `traceparent`. The span becomes a child of that
   * header's `Parent` in its trace; with `Sampled=1` or `0` the caller's decision is kept. A value
   * that is neither is ignored (the span continues the current trace).
   */
  readonly parent?: string | undefined;
  /**
   * Traces this span is linked to, in the same forms as `parent`: the messages of a batch, each from
   * its own producer. OpenTelemetry span links; in X-Ray SDK mode, recorded in the subsegment's
   * metadata (`links`). Values that are neither form, or that name no parent span, are skipped.
   */
  readonly links?: readonly string[] | undefined;
}

/** The span {@link RuntimeTracer.span} passes to its function. With tracing off, every method is a no-op. */
export interface SpanHandle {
  /** The span's trace id in X-Ray form (`1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`); `undefined` when off. */
  readonly traceId: string | undefined;
  /** The span's id, 16 hex digits; `undefined` when off. */
  readonly spanId: string | undefined;
  /** Adds attributes to the span. */
  setAttributes(attributes: SpanAttributes): void;
  /** Records an error the function handled: an `exception` event, and the span's status set to error. */
  recordError(error: unknown): void;
}

/** The tracing backends: `'otel'` (OpenTelemetry), `'xray'` (the X-Ray SDK) or `'off'`. */
export type TracingBackendName = 'otel' | 'xray' | 'off';

/**
 * A client of the AWS SDK for JavaScript v3 (`new S3Client(…)`, `new SecretsManagerClient(…)`):
 * anything with a Smithy middleware stack.
 */
export interface InstrumentableAwsClient {
  readonly middlewareStack: {
    add(middleware: AwsBuildMiddleware, options: AwsBuildMiddlewareOptions): void;
    add(middleware: AwsFinalizeRequestMiddleware, options: AwsFinalizeRequestMiddlewareOptions): void;
  };
  readonly config?: object;
}

/** The arguments of a Smithy `build` or `finalizeRequest` step handler, as far as the kit reads them. */
export interface AwsBuildArguments {
  readonly input: object;
  readonly request: unknown;
}

/** The result of a Smithy handler, as far as the kit reads it. */
export interface AwsHandlerOutput {
  readonly output: unknown;
  readonly response: unknown;
}

/** A Smithy `build` (or `finalizeRequest`) step handler. */
export type AwsBuildHandler = (args: AwsBuildArguments) => Promise<AwsHandlerOutput>;

/** The Smithy handler context, as far as the kit reads it. */
export interface AwsHandlerContext {
  readonly clientName?: string;
  readonly commandName?: string;
}

/** A Smithy `build` step middleware. */
export type AwsBuildMiddleware = (next: AwsBuildHandler, context: AwsHandlerContext) => AwsBuildHandler;

/** A Smithy `finalizeRequest` step middleware: the same shape as a `build` one. */
export type AwsFinalizeRequestMiddleware = AwsBuildMiddleware;

/** Where the kit's span middleware goes in the Smithy stack. */
export interface AwsBuildMiddlewareOptions {
  readonly step: 'build';
  readonly name: string;
  readonly override?: boolean;
  readonly tags?: string[];
}

/** Where the kit's header middleware goes in the Smithy stack: after the signer. */
export interface AwsFinalizeRequestMiddlewareOptions {
  readonly step: 'finalizeRequest';
  readonly priority: 'low';
  readonly name: string;
  readonly override?: boolean;
  readonly tags?: string[];
}

/**
 * The kit's tracer, `runtime.tracer`: the same API whichever backend runs, and no-ops when tracing
 * is off.
 *
 * @example
 * ```ts
 * const runtime = await bootstrapAppRunner({ app });
 * const s3 = runtime.tracer.instrumentAwsClient(new S3Client({}));
 *
 * app.get('/notes/:id', async (req, res) => {
 *   const note = await runtime.tracer.span('load note', async (span) => {
 *     span.setAttributes({ 'note.id': req.params.id });
 *     return s3.send(new GetObjectCommand({ Bucket: 'notes', Key: req.params.id }));
 *   });
 *   res.json(note);
 * });
 * ```
 */
export interface RuntimeTracer {
  /** The backend that runs: `'otel'`, `'xray'`, or `'off'` (also when `auto` found nothing to export to). */
  readonly mode: TracingBackendName;
  /**
   * Runs `fn` inside a new span, a child of the current one (a new trace outside any request or
   * span). A promise returned by `fn` ends the span when it settles; a throw or rejection is
   * recorded on the span (status error, an `exception` event) and passed on unchanged.
   *
   * @example
   * ```ts
   * const rows = await runtime.tracer.span('query notes', () => pool.query(sql), {
   *   attributes: { 'db.system': 'postgresql' },
   * });
   * ```
   */
  span<T>(name: string, fn: (span: SpanHandle) => T, options?: SpanOptions): T;
  /**
   * Adds attributes to the current span (the request's, or the innermost {@link RuntimeTracer.span});
   * does nothing outside any span.
   *
   * @example
   * ```ts
   * runtime.tracer.setAttributes({ 'user.tier': 'pro' });
   * ```
   */
  setAttributes(attributes: SpanAttributes): void;
  /**
   * The trace id of the current span in X-Ray form (`1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`), the one
   * the log lines carry; with tracing off, the `Root` of the request's `X-Amzn-Trace-Id`.
   * `undefined` outside any request or span.
   *
   * @example
   * ```ts
   * res.setHeader('x-trace-id', runtime.tracer.currentTraceId() ?? '');
   * ```
   */
  currentTraceId(): string | undefined;
  /**
   * The `X-Amzn-Trace-Id` value that makes work elsewhere a child of the current span — to put in a
   * message (SQS, EventBridge) or a request the kit does not instrument. `undefined` when off or
   * outside any span.
   *
   * @example
   * ```ts
   * await sqs.send(new SendMessageCommand({
   *   QueueUrl, MessageBody,
   *   MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: runtime.tracer.currentTraceHeader() } },
   * }));
   * ```
   */
  currentTraceHeader(): string | undefined;
  /**
   * The headers that carry the request and the current span to work elsewhere, for a transport the
   * kit does not instrument (Kafka record headers, SQS or SNS message attributes, gRPC metadata, a
   * WebSocket message): within a request, its id (`logging.requestIdHeader`), and the trace headers
   * `tracing.propagators` names (`x-amzn-trace-id`, `traceparent`, `tracestate`, `baggage`) with the
   * current span as the parent. Names are lower case; the object is empty outside any request or
   * span. With tracing off: the request id alone.
   *
   * @example
   * ```ts
   * await producer.send({ topic: 'orders', messages: [{ value, headers: runtime.tracer.currentHeaders() }] });
   * ```
   */
  currentHeaders(): Record<string, string>;
  /**
   * Traces an AWS SDK v3 client: each `client.send()` made inside a request or span becomes one
   * client span (not one per HTTP attempt: retries stay inside it), and its requests carry the
   * trace header, added after the SDK signs them (never in the signature; a presigned URL carries
   * none and makes no span). Returns the client. Safe to call twice; a no-op when tracing is off.
   *
   * @example
   * ```ts
   * const dynamo = runtime.tracer.instrumentAwsClient(new DynamoDBClient({}));
   * ```
   */
  instrumentAwsClient<C extends InstrumentableAwsClient>(client: C): C;
  /**
   * Exports the finished spans now. Shutdown does it for you; use it in scripts and tests.
   * Never rejects: a failed export is logged.
   */
  flush(): Promise<void>;
}

const noopSpan: SpanHandle = Object.freeze({
  traceId: undefined,
  spanId: undefined,
  setAttributes() {},
  recordError() {},
});

/**
 * {@link RuntimeTracer.currentHeaders}: the request's id under `requestIdHeader` (when it is
 * forwarded, within a request), then `trace`, the current span's headers.
 */
export function outgoingHeaders(
  trace: readonly PropagationHeader[],
  requestIdHeader: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const context = requestIdHeader === undefined ? undefined : getRequestContext();
  if (context !== undefined) headers[requestIdHeader!] = context.requestId;
  for (const [name, value] of trace) headers[name] = value;
  return headers;
}

/**
 * The tracer of `mode: 'off'`: every method a no-op, the trace id from the request's header, and
 * the request id (under `requestIdHeader`, when forwarded) its only header.
 */
export function offTracer(requestIdHeader?: string): RuntimeTracer {
  return Object.freeze({
    mode: 'off' as const,
    span: <T>(_name: string, fn: (span: SpanHandle) => T) => fn(noopSpan),
    setAttributes() {},
    currentTraceId: () => getRequestContext()?.traceId,
    currentTraceHeader: () => undefined,
    currentHeaders: () => outgoingHeaders([], requestIdHeader),
    instrumentAwsClient: <C extends InstrumentableAwsClient>(client: C) => client,
    flush: () => Promise.resolve(),
  });
}
