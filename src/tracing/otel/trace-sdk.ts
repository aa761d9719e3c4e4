import type { Tracer } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { IdGenerator, Sampler, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { BatchSettings, SpanLimitSettings } from '../../config/otel-sdk.js';
import { importOtelPeer } from './peer.js';

/** What the kit builds its tracer provider from; both SDK lines take this shape. */
export interface TracerProviderConfig {
  readonly resource: Resource;
  readonly idGenerator: IdGenerator;
  readonly sampler: Sampler;
  readonly spanProcessors: SpanProcessor[];
  /** Every limit given: the 2.x provider would read a missing one from `process.env`. */
  readonly spanLimits: SpanLimitSettings;
}

/** The tracer provider of either SDK line, as far as the kit uses it. */
export interface SdkTracerProvider {
  getTracer(name: string): Tracer;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * The parts of an OpenTelemetry trace SDK the kit uses. The 2.x line publishes them as
 * `@opentelemetry/sdk-trace-base` (provider `BasicTracerProvider`), the 3.x line as
 * `@opentelemetry/sdk-trace` (provider `TracerProvider`, and a batch processor that takes its exporter
 * inside an options object); the samplers have the same names and shapes.
 */
export interface TraceSdk {
  /** The package the SDK was loaded from. */
  readonly packageName: '@opentelemetry/sdk-trace' | '@opentelemetry/sdk-trace-base';
  /** The SDK line's version, as `@opentelemetry/core` reports it (`telemetry.sdk.version`). */
  readonly version: string;
  readonly TracerProvider: new (config: TracerProviderConfig) => SdkTracerProvider;
  /**
   * A batch span processor exporting to `exporter`, with every setting given: the 3.x line reads no
   * `OTEL_BSP_*` variable, and the 2.x one would read a missing setting from `process.env`.
   */
  createBatchProcessor(exporter: SpanExporter, settings: BatchSettings): SpanProcessor;
  readonly AlwaysOnSampler: new () => Sampler;
  readonly AlwaysOffSampler: new () => Sampler;
  readonly TraceIdRatioBasedSampler: new (ratio: number) => Sampler;
}

/** The major of an SDK version string (`'3.1.1'` → 3); 0 when it is not one. */
export function sdkMajor(version: string): number {
  const major = Number.parseInt(version, 10);
  return Number.isInteger(major) ? major : 0;
}

/**
 * Loads the trace SDK of the line `@opentelemetry/core` belongs to: the SDK and core must be of one
 * line (the 3.x SDK is built on core 3), so core's version decides, not whichever package happens
 * to be installed — an app can hold both, one of them nested under an exporter.
 *
 * @throws MissingDependencyError (`ARK_DEPENDENCY_MISSING`) naming that line's SDK package when it is not installed.
 */
export async function loadTraceSdk(): Promise<TraceSdk> {
  const { SDK_INFO } = await importOtelPeer(() => import('@opentelemetry/core'));
  const version = String(SDK_INFO['telemetry.sdk.version'] ?? '');
  if (sdkMajor(version) >= 3) {
    const sdk = await importOtelPeer(() => import('@opentelemetry/sdk-trace'));
    return {
      packageName: '@opentelemetry/sdk-trace',
      version,
      TracerProvider: sdk.TracerProvider as unknown as TraceSdk['TracerProvider'],
      createBatchProcessor: (exporter, settings) =>
        new sdk.BatchSpanProcessor({ exporter, ...settings } as never) as SpanProcessor,
      AlwaysOnSampler: sdk.AlwaysOnSampler,
      AlwaysOffSampler: sdk.AlwaysOffSampler,
      TraceIdRatioBasedSampler: sdk.TraceIdRatioBasedSampler,
    };
  }
  const sdk = await importOtelPeer(() => import('@opentelemetry/sdk-trace-base'));
  return {
    packageName: '@opentelemetry/sdk-trace-base',
    version,
    TracerProvider: sdk.BasicTracerProvider,
    createBatchProcessor: (exporter, settings) => new sdk.BatchSpanProcessor(exporter, { ...settings }),
    AlwaysOnSampler: sdk.AlwaysOnSampler,
    AlwaysOffSampler: sdk.AlwaysOffSampler,
    TraceIdRatioBasedSampler: sdk.TraceIdRatioBasedSampler,
  };
}
