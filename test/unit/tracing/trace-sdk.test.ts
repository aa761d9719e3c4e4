import { SDK_INFO } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { parseVariables } from '../../../src/config/environment.js';
import { otelSdkSettings, otelSdkVariables } from '../../../src/config/otel-sdk.js';
import { loadTraceSdk, sdkMajor } from '../../../src/tracing/otel/trace-sdk.js';

interface ReadableSpanLike {
  readonly name: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

// 2 with the lockfile's packages; the OpenTelemetry-line step of scripts/test.sh installs the 3.x
// line over them and sets EXPECT_OTEL_SDK_MAJOR=3, so these tests prove which line they ran on.
const expectedMajor = Number(process.env.EXPECT_OTEL_SDK_MAJOR ?? '2');

describe('loadTraceSdk', () => {
  it(`loads the SDK of @opentelemetry/core's line (${SDK_INFO['telemetry.sdk.version']})`, async () => {
    const sdk = await loadTraceSdk();
    expect(sdkMajor(sdk.version)).toBe(expectedMajor);
    expect(sdk.packageName).toBe(
      expectedMajor >= 3 ? '@opentelemetry/sdk-trace' : '@opentelemetry/sdk-trace-base',
    );
  });

  it('builds a working provider from that line', async () => {
    const sdk = await loadTraceSdk();
    const { resourceFromAttributes } = await import('@opentelemetry/resources');
    const ended: string[] = [];
    const provider = new sdk.TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'unit' }),
      idGenerator: { generateTraceId: () => 'a'.repeat(32), generateSpanId: () => 'b'.repeat(16) },
      sampler: new sdk.AlwaysOnSampler(),
      spanProcessors: [
        {
          onStart: () => {},
          onEnd: (span) => ended.push(`${span.name} ${span.spanContext().traceId}`),
          forceFlush: () => Promise.resolve(),
          shutdown: () => Promise.resolve(),
        },
      ],
      spanLimits: otelSdkSettings(parseVariables({}, otelSdkVariables)).spanLimits,
    });
    provider.getTracer('unit').startSpan('work').end();
    await provider.shutdown();
    expect(ended).toEqual([`work ${'a'.repeat(32)}`]);
  });

  it('applies the batch settings and span limits it is given (the 3.x line reads no OTEL_BSP_*)', async () => {
    const sdk = await loadTraceSdk();
    const { resourceFromAttributes } = await import('@opentelemetry/resources');
    const { ExportResultCode } = await import('@opentelemetry/core');
    const settings = otelSdkSettings(
      parseVariables(
        {
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2',
          OTEL_BSP_SCHEDULE_DELAY: '60000',
          OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '2',
          OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '4',
        },
        otelSdkVariables,
      ),
    );
    const batches: { name: string; attributes: Record<string, unknown> }[][] = [];
    const exporter = {
      export: (spans: readonly ReadableSpanLike[], done: (result: { code: number }) => void) => {
        batches.push(spans.map((s) => ({ name: s.name, attributes: { ...s.attributes } })));
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: () => Promise.resolve(),
    };
    const provider = new sdk.TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'unit' }),
      idGenerator: { generateTraceId: () => 'a'.repeat(32), generateSpanId: () => 'b'.repeat(16) },
      sampler: new sdk.AlwaysOnSampler(),
      spanProcessors: [sdk.createBatchProcessor(exporter as never, settings.batch)],
      spanLimits: settings.spanLimits,
    });
    const tracer = provider.getTracer('unit');
    for (const name of ['a', 'b', 'c'])
      tracer.startSpan(name, { attributes: { first: 'abcdefgh', second: 2, third: 3 } }).end();
    await provider.forceFlush();
    await provider.shutdown();

    expect(batches.map((batch) => batch.map((s) => s.name))).toEqual([['a', 'b'], ['c']]);
    expect(batches[0]![0]!.attributes).toEqual({ first: 'abcd', second: 2 });
  });

  it.each([
    ['3.1.1', 3],
    ['2.12.1', 2],
    ['', 0],
    ['next', 0],
  ])('reads the major of %j as %d', (version, major) => {
    expect(sdkMajor(version)).toBe(major);
  });
});
