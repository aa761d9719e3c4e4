import { context, ROOT_CONTEXT, TraceFlags } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { runOutsideRequestContext } from '../../http/context.js';
import type { ExportTarget } from './export-target.js';
import { importOtelPeer } from './peer.js';
import { encodeTraceRequest } from './span-encoder.js';
import { withWellFormedIds } from './well-formed-ids.js';

interface SerializerLike {
  serializeRequest(request: unknown): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): unknown;
}

/**
 * Puts `serialize` in place of the exporter's request serializer (its response reading kept), when
 * the exporter has the shape this was written against (`@opentelemetry/otlp-exporter-base` 0.2xx and
 * 0.3xx: `_delegate` holding `_serializer`); the exporter keeps its transport, retries, headers and
 * compression. Any other shape is left alone: the exporter then serializes as it always does.
 * Returns whether `serialize` is in place.
 */
function replaceSerializer(
  exporter: SpanExporter,
  serialize: (spans: ReadableSpan[], original: SerializerLike) => Uint8Array | undefined,
): boolean {
  const delegate = (exporter as { _delegate?: { _serializer?: Partial<SerializerLike> } })._delegate;
  const serializer = delegate?._serializer;
  if (
    delegate === undefined ||
    typeof serializer?.serializeRequest !== 'function' ||
    typeof serializer.deserializeResponse !== 'function'
  )
    return false;
  const original = serializer as SerializerLike;
  delegate._serializer = {
    serializeRequest: (spans) => serialize(spans as ReadableSpan[], original),
    deserializeResponse: (data) => original.deserializeResponse(data),
  };
  return true;
}

/** Puts the kit's OTLP protobuf encoder in place of the exporter's serializer ({@link replaceSerializer}). */
export function useKitEncoder(exporter: SpanExporter): boolean {
  return replaceSerializer(exporter, (spans) => encodeTraceRequest(spans));
}

/**
 * Has the exporter's own serializer (OTLP/JSON) leave out the ids a collector would refuse the batch
 * for ({@link withWellFormedIds}), as the kit's protobuf encoder does.
 */
function keepIdsWellFormed(exporter: SpanExporter): boolean {
  return replaceSerializer(exporter, (spans, original) =>
    original.serializeRequest(withWellFormedIds(spans)),
  );
}

/**
 * The OTLP exporter of `target`'s protocol; only that one exporter package is loaded. The protobuf
 * ones (HTTP and gRPC) encode with the kit's encoder where their shape allows ({@link useKitEncoder}).
 *
 * @throws MissingDependencyError (`ARK_DEPENDENCY_MISSING`) naming the exporter package when it is not installed.
 */
export async function loadExporter(target: ExportTarget): Promise<SpanExporter> {
  const config = {
    url: target.url,
    ...(target.timeoutMs === undefined ? {} : { timeoutMillis: target.timeoutMs }),
  };
  switch (target.protocol) {
    case 'grpc': {
      const { OTLPTraceExporter } = await importOtelPeer(
        () => import('@opentelemetry/exporter-trace-otlp-grpc'),
      );
      const exporter = new OTLPTraceExporter(config);
      useKitEncoder(exporter);
      return exporter;
    }
    case 'http/json': {
      const { OTLPTraceExporter } = await importOtelPeer(
        () => import('@opentelemetry/exporter-trace-otlp-http'),
      );
      const exporter = new OTLPTraceExporter(config);
      keepIdsWellFormed(exporter);
      return exporter;
    }
    default: {
      const { OTLPTraceExporter } = await importOtelPeer(
        () => import('@opentelemetry/exporter-trace-otlp-proto'),
      );
      const exporter = new OTLPTraceExporter(config);
      useKitEncoder(exporter);
      return exporter;
    }
  }
}

interface ResponseHandlerLike {
  handleResponse(response: unknown): void;
}

/** What a collector's partial success said: spans it rejected, and why. */
interface PartialSuccess {
  readonly rejectedSpans: number;
  readonly errorMessage: string;
}

/** The partial success in an OTLP export response, when it carries one (the spec: a rejection, or a warning). */
function partialSuccessOf(response: unknown): PartialSuccess | undefined {
  const partial = (
    response as { partialSuccess?: { rejectedSpans?: unknown; errorMessage?: unknown } } | null
  )?.partialSuccess;
  if (partial === undefined || partial === null) return undefined;
  // int64: a number from the protobuf reader, a string in JSON.
  const rejected = Number(partial.rejectedSpans ?? 0);
  const rejectedSpans = Number.isSafeInteger(rejected) && rejected > 0 ? rejected : 0;
  const errorMessage = typeof partial.errorMessage === 'string' ? partial.errorMessage.slice(0, 300) : '';
  return rejectedSpans > 0 || errorMessage !== '' ? { rejectedSpans, errorMessage } : undefined;
}

/**
 * Calls `observe` with each export response, where the exporter has the shape of
 * {@link useKitEncoder} (`_delegate` holding `_responseHandler`, on the 2.x and 3.x lines alike): the
 * exporter reports a partial success as a success, and only to OpenTelemetry's `diag` logger. The
 * handler runs just before the export's callback, in the same turn. Returns whether it is in place.
 */
function watchResponses(exporter: SpanExporter, observe: (response: unknown) => void): boolean {
  const delegate = (exporter as { _delegate?: { _responseHandler?: Partial<ResponseHandlerLike> } })
    ._delegate;
  const handler = delegate?._responseHandler;
  if (delegate === undefined || typeof handler?.handleResponse !== 'function') return false;
  const original = handler as ResponseHandlerLike;
  delegate._responseHandler = {
    handleResponse: (response) => {
      observe(response);
      original.handleResponse(response);
    },
  };
  return true;
}

/** Kinds of trouble an export reports, each warned about once per outage. */
type Trouble = 'failed' | 'queueFull' | 'rejected';

/** How long a kind of trouble stays quiet after its warning, when outages come and go. */
const warnIntervalMs = 60_000;

/**
 * Wraps an exporter to report a collector outage once: a warning when exports first fail, when the
 * batch queue is first full, or when the collector first rejects spans (a partial success); an info
 * line with what was lost when an export succeeds in full again, no span dropped meanwhile — not a
 * line per span or per batch. Each kind of warning is logged at most once a minute: an outage that
 * comes back within it is counted into the next recovery line that is logged. Export runs in the
 * batch processor's background, so an outage costs requests nothing.
 */
export class OutageReportingExporter implements SpanExporter {
  readonly #exporter: SpanExporter;
  readonly #logger: Logger;
  readonly #target: ExportTarget;
  readonly #maxQueueSize: number;
  /** Spans the batch processor holds: admitted by {@link gateQueue}, taken by an export. */
  #queued = 0;
  /** Spans dropped on a full queue, ever: an export that saw none dropped during its flight is clean. */
  #queueDrops = 0;
  #failedBatches = 0;
  #droppedSpans = 0;
  #queueFullSpans = 0;
  #rejectedSpans = 0;
  /** The troubles of the outage under way (`undefined`: none). */
  #outage: Set<Trouble> | undefined;
  /** Whether a warning was logged since the last recovery line: only then is one logged. */
  #warned = false;
  readonly #lastWarning: Record<Trouble, number> = {
    failed: -Infinity,
    queueFull: -Infinity,
    rejected: -Infinity,
  };
  /** The last warning of a partial success that rejected nothing, and when it was logged. */
  #lastNotice: string | undefined;
  #lastNoticeAt = -Infinity;
  /** The partial success of the response being handled, read by that export's callback. */
  #partial: PartialSuccess | undefined;

  constructor(exporter: SpanExporter, logger: Logger, target: ExportTarget, maxQueueSize: number) {
    this.#exporter = exporter;
    this.#logger = logger;
    this.#target = target;
    this.#maxQueueSize = maxQueueSize;
    watchResponses(exporter, (response) => {
      this.#partial = partialSuccessOf(response);
    });
  }

  /** Whether the batch queue takes one more span; a span it does not take is counted as dropped. */
  admit(): boolean {
    if (this.#queued < this.#maxQueueSize) {
      this.#queued += 1;
      return true;
    }
    this.#queueDrops += 1;
    this.#droppedSpans += 1;
    this.#queueFullSpans += 1;
    this.#trouble('queueFull', {
      fields: { maxQueueSize: this.#maxQueueSize },
      msg: `trace export queue full (${this.#maxQueueSize} spans): new spans are dropped until exports catch up (logged once per outage)`,
    });
    return false;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#queued = Math.max(0, this.#queued - spans.length);
    const dropsBefore = this.#queueDrops;
    let reported = false;
    const report = (result: ExportResult) => {
      if (reported) return;
      reported = true;
      const partial = this.#partial;
      this.#partial = undefined;
      try {
        this.#observe(result, spans.length, partial, this.#queueDrops === dropsBefore);
      } finally {
        resultCallback(result);
      }
    };
    try {
      // The batch processor's timer was set by a span that ended in a request: the export is no part
      // of it (no x-request-id to the collector, no requestId on an outage line), and traces nothing.
      runOutsideRequestContext(() =>
        context.with(suppressTracing(ROOT_CONTEXT), () => this.#exporter.export(spans, report)),
      );
    } catch (error) {
      report({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  #observe(result: ExportResult, count: number, partial: PartialSuccess | undefined, noDrops: boolean): void {
    const { shownUrl: url } = this.#target;
    if (result.code !== ExportResultCode.SUCCESS) {
      this.#failedBatches += 1;
      this.#droppedSpans += count;
      this.#trouble('failed', {
        fields: { err: result.error },
        msg: `trace export to ${url} failed: spans are dropped until the collector answers (logged once per outage)`,
      });
      return;
    }
    if (partial !== undefined && partial.rejectedSpans > 0) {
      this.#rejectedSpans += partial.rejectedSpans;
      this.#trouble('rejected', {
        fields: { rejectedSpans: partial.rejectedSpans, errorMessage: partial.errorMessage },
        msg: `the collector at ${url} rejected ${partial.rejectedSpans} of ${count} spans: ${partial.errorMessage || 'no reason given'} (logged once per outage)`,
      });
      return;
    }
    // Nothing rejected: the spec's warning, a success.
    if (partial !== undefined) this.#notice(partial.errorMessage);
    if (this.#outage === undefined || !noDrops) return;
    this.#outage = undefined;
    if (!this.#warned) return; // every warning of it was rate-limited: its counts go to the next line
    const { protocol } = this.#target;
    this.#logger.info(
      {
        tracing: { protocol, endpoint: url },
        failedBatches: this.#failedBatches,
        droppedSpans: this.#droppedSpans,
        ...(this.#queueFullSpans > 0 ? { queueFullSpans: this.#queueFullSpans } : {}),
        ...(this.#rejectedSpans > 0 ? { rejectedSpans: this.#rejectedSpans } : {}),
      },
      'trace export recovered',
    );
    this.#warned = false;
    this.#failedBatches = 0;
    this.#droppedSpans = 0;
    this.#queueFullSpans = 0;
    this.#rejectedSpans = 0;
  }

  /** Notes trouble of `kind`; warns when it is the outage's first of that kind, at most once a minute. */
  #trouble(kind: Trouble, line: { fields: Record<string, unknown>; msg: string }): void {
    this.#outage ??= new Set();
    if (this.#outage.has(kind)) return;
    this.#outage.add(kind);
    const now = performance.now();
    if (now - this.#lastWarning[kind] < warnIntervalMs) return;
    this.#lastWarning[kind] = now;
    this.#warned = true;
    const { protocol, shownUrl: url } = this.#target;
    // Not on the line of the request whose span found the queue full: the outage is no part of it.
    runOutsideRequestContext(() =>
      this.#logger.warn({ ...line.fields, tracing: { protocol, endpoint: url } }, line.msg),
    );
  }

  /**
   * A partial success that rejected nothing: the spec's warning, every span taken. Logged at info
   * when it says something new, at most once a minute: a collector may attach one to every answer.
   */
  #notice(errorMessage: string): void {
    const now = performance.now();
    if (errorMessage === this.#lastNotice || now - this.#lastNoticeAt < warnIntervalMs) return;
    this.#lastNotice = errorMessage;
    this.#lastNoticeAt = now;
    const { protocol, shownUrl: url } = this.#target;
    this.#logger.info(
      { errorMessage, tracing: { protocol, endpoint: url } },
      `the collector at ${url} took every span, with a warning: ${errorMessage} (logged when it changes, at most once a minute)`,
    );
  }

  shutdown(): Promise<void> {
    return this.#exporter.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#exporter.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * The batch processor behind a gate that keeps its queue for it: a sampled span that would find the
 * queue full is dropped here and counted by `exporter` (the SDK counts it only for a `diag` line no
 * one sees, and on the 3.x line for a metric). The gate's count mirrors the processor's queue: it
 * takes the spans the processor takes (sampled, before its shutdown), and an export takes them out.
 * Its flush ends once the exports under way have too, the one the processor's timer started included.
 */
export function gateQueue(processor: SpanProcessor, exporter: OutageReportingExporter): SpanProcessor {
  let shut = false;
  return {
    onStart: (span, parentContext) => processor.onStart(span, parentContext),
    onEnd: (span) => {
      if (
        !shut &&
        (span.spanContext().traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED &&
        !exporter.admit()
      )
        return;
      processor.onEnd(span);
    },
    // The processor exports what it holds; an export its timer started is the exporter's to await.
    forceFlush: () => processor.forceFlush().then(() => exporter.forceFlush()),
    shutdown: () => {
      shut = true;
      return processor.shutdown();
    },
  };
}
