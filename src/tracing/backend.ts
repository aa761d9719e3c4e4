import type { ReceivedPropagation, RequestContext } from '../http/context.js';
import type { IncomingRequestInfo } from './incoming-request.js';
import type { PropagationHeader } from './propagation.js';
import type { TraceHeader } from './trace-header.js';
import type { SpanAttributes, SpanHandle, SpanOptions, TracingBackendName } from './tracer.js';

/** An outgoing call about to be made, as the backend-neutral instrumentation describes it. */
export type OutgoingCall =
  | {
      readonly kind: 'http';
      /** Which client made it. */
      readonly library: 'fetch' | 'node:http';
      /** As sent, upper case. */
      readonly method: string;
      /** `http:` or `https:`. */
      readonly protocol: string;
      readonly host: string;
      readonly port: number | undefined;
      /** The path, without the query string (it may carry secrets). */
      readonly path: string;
    }
  | {
      readonly kind: 'aws';
      /** `SecretsManager`, `S3`: the client's name without `Client`. */
      readonly service: string;
      /** `GetSecretValue`: the command's name without `Command`. */
      readonly operation: string;
      readonly region: string | undefined;
      /** The command's input, for the resource names X-Ray records (`TableName`, `QueueUrl`). */
      readonly input?: unknown;
    };

/** How an outgoing call ended. */
export interface CallOutcome {
  readonly statusCode?: number | undefined;
  readonly error?: unknown;
  /** The AWS request id, when AWS answered. */
  readonly requestId?: string | undefined;
  /** S3's extended request id (`x-amz-id-2`), when it answered with one. */
  readonly extendedRequestId?: string | undefined;
  /** The response's `Content-Length`, when a successful AWS SDK call's response had one. */
  readonly contentLength?: number | undefined;
  /** How many HTTP attempts an AWS SDK call made. */
  readonly attempts?: number | undefined;
  /** An AWS SDK call's output, for the resource fields X-Ray records. */
  readonly output?: unknown;
}

/** A span around one outgoing call. */
export interface ClientSpan {
  /**
   * The headers that carry the trace to the callee, as `tracing.propagators` says (`traceparent`,
   * `tracestate`, `baggage`, `x-amzn-trace-id`); empty when there are none to send.
   */
  readonly headers: readonly PropagationHeader[];
  /** Ends the span; only the first call counts. */
  end(outcome: CallOutcome): void;
  /**
   * Drops the span unrecorded, for a call that sent nothing (a presigned URL); a no-op once ended.
   */
  discard(): void;
}

/** How a request ended, for its span. */
export interface RequestOutcome {
  /** The status sent; `undefined` when no response was (the client left, the shutdown cut it). */
  readonly statusCode: number | undefined;
  /** The connection closed before the response was sent in full. */
  readonly aborted: boolean;
  /** The route pattern, when an adapter set it. */
  readonly route: string | undefined;
  /** The error the route threw, when an adapter reported one. */
  readonly error?: unknown;
  /**
   * The app reported that error (`reportRequestError`) on a response below 400, such as a GraphQL 200
   * with `errors`: the request failed, whatever its status.
   */
  readonly failedDespiteStatus?: boolean | undefined;
  /** The response's `Content-Length`, when it set one. */
  readonly contentLength?: number | undefined;
}

/** What the start of a request's span tells the request scope. */
export interface StartedRequest {
  /** The trace id in X-Ray form: the caller's, or a new one. */
  readonly traceId: string;
  /** Whether the trace is sampled (recorded and exported). */
  readonly sampled: boolean;
}

/** How the backend exports, for the start-up log line. */
export interface BackendDescription {
  readonly [key: string]: string | number | boolean | undefined;
}

/**
 * What one tracing backend provides. The backend-neutral parts — the request scope hooks, the
 * fetch and node:http client instrumentation, the AWS SDK middleware, `runtime.tracer` — drive it;
 * OpenTelemetry implements it in `otel/`, the X-Ray SDK in `xray/`.
 * Methods never throw on bad input from the network; the instrumentation guards them anyway.
 */
export interface TracingBackend {
  readonly name: Exclude<TracingBackendName, 'off'>;
  /** For the start-up log line: protocol, endpoint, sampler. */
  readonly description: BackendDescription;
  /**
   * Starts the span of a request, continuing `header`'s trace when there is one, and carrying on
   * what `received` holds of the W3C headers (`tracestate`, `baggage`).
   */
  startRequest(
    context: RequestContext,
    request: IncomingRequestInfo,
    header: TraceHeader | undefined,
    received: ReceivedPropagation | undefined,
  ): StartedRequest;
  /** Ends the span of a request. */
  finishRequest(context: RequestContext, outcome: RequestOutcome): void;
  /**
   * Starts a client span, a child of the current span; `undefined` when there is no current span
   * (calls outside any request or span are not traced) or tracing is suppressed here.
   */
  startClientSpan(call: OutgoingCall): ClientSpan | undefined;
  /** Runs `fn` with `span` current and the client instrumentation below it suppressed. */
  withClientSpan<T>(span: ClientSpan, fn: () => T): T;
  /** {@link RuntimeTracer.span}. */
  span<T>(name: string, fn: (span: SpanHandle) => T, options?: SpanOptions): T;
  /** {@link RuntimeTracer.setAttributes}. */
  setAttributes(attributes: SpanAttributes): void;
  /** {@link RuntimeTracer.currentTraceId}. */
  currentTraceId(): string | undefined;
  /** {@link RuntimeTracer.currentTraceHeader}. */
  currentTraceHeader(): string | undefined;
  /** The trace headers of {@link RuntimeTracer.currentHeaders}: the current span's, as `tracing.propagators` says. */
  currentPropagationHeaders(): readonly PropagationHeader[];
  /** Exports what is finished; never rejects. */
  flush(): Promise<void>;
  /** Exports what is finished and releases everything; never rejects; safe to call twice. */
  shutdown(): Promise<void>;
}
