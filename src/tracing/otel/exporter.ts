import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { ExportTarget } from './export-target.js';
import { importOtelPeer } from './peer.js';

/**
 * The OTLP exporter of `target`'s protocol; only that one exporter package is loaded.
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
      return new OTLPTraceExporter(config);
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
      return new OTLPTraceExporter(config);
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

  /** True while exports fail. */
  get down(): boolean {
    return this.#failedBatches > 0;
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
      this.#exporter.export(spans, report);
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
