import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { runOutsideRequestContext } from '../../http/context.js';
import type { ExportTarget } from './export-target.js';
import { importOtelPeer } from './peer.js';
import { encodeTraceRequest } from './span-encoder.js';

interface SerializerLike {
  serializeRequest(request: unknown): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): unknown;
}

/**
 * Puts the kit's OTLP protobuf encoder in place of the exporter's serializer, when the exporter has
 * the shape this was written against (`@opentelemetry/otlp-exporter-base` 0.2xx: `_delegate`
 * holding `_serializer`); the exporter keeps its transport, retries, headers and compression. Any
 * other shape is left alone: the exporter then serializes as it always does. Returns whether the
 * encoder is in place.
 */
export function useKitEncoder(exporter: SpanExporter): boolean {
  const delegate = (exporter as { _delegate?: { _serializer?: Partial<SerializerLike> } })._delegate;
  const serializer = delegate?._serializer;
  if (
    delegate === undefined ||
    typeof serializer?.serializeRequest !== 'function' ||
    typeof serializer.deserializeResponse !== 'function'
  )
    return false;
  const original = serializer as SerializerLike;
  const replacement: SerializerLike = {
    serializeRequest: (spans) => encodeTraceRequest(spans as ReadableSpan[]),
    deserializeResponse: (data) => original.deserializeResponse(data),
  };
  delegate._serializer = replacement;
  return true;
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
      return new OTLPTraceExporter(config);
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

/**
 * Wraps an exporter to log a collector outage once: a warning when an export first fails, an info
 * line with what was dropped when one succeeds again — not a line per span or per batch. Export
 * runs in the batch processor's background, so an outage costs requests nothing.
 */
export class OutageReportingExporter implements SpanExporter {
  readonly #exporter: SpanExporter;
  readonly #logger: Logger;
  readonly #target: ExportTarget;
  #failedBatches = 0;
  #droppedSpans = 0;

  constructor(exporter: SpanExporter, logger: Logger, target: ExportTarget) {
    this.#exporter = exporter;
    this.#logger = logger;
    this.#target = target;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let reported = false;
    const report = (result: ExportResult) => {
      if (reported) return;
      reported = true;
      try {
        this.#observe(result, spans.length);
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

  #observe(result: ExportResult, count: number): void {
    const { protocol, url } = this.#target;
    if (result.code === ExportResultCode.SUCCESS) {
      if (this.#failedBatches > 0) {
        this.#logger.info(
          {
            tracing: { protocol, endpoint: url },
            failedBatches: this.#failedBatches,
            droppedSpans: this.#droppedSpans,
          },
          'trace export recovered',
        );
      }
      this.#failedBatches = 0;
      this.#droppedSpans = 0;
      return;
    }
    if (this.#failedBatches === 0) {
      this.#logger.warn(
        { err: result.error, tracing: { protocol, endpoint: url } },
        `trace export to ${url} failed: spans are dropped until the collector answers (logged once per outage)`,
      );
    }
    this.#failedBatches += 1;
    this.#droppedSpans += count;
  }

  shutdown(): Promise<void> {
    return this.#exporter.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#exporter.forceFlush?.() ?? Promise.resolve();
  }
}
