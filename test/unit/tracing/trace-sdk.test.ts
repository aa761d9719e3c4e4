import { SDK_INFO } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { loadTraceSdk, sdkMajor } from '../../../src/tracing/otel/trace-sdk.js';

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
    });
    provider.getTracer('unit').startSpan('work').end();
    await provider.shutdown();
    expect(ended).toEqual([`work ${'a'.repeat(32)}`]);
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
