// Tracing auto beside Sentry's tracer provider: left to Sentry when it makes spans, the kit's when not.
import { type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { resolveTracingMode } from '../../../src/tracing/mode.js';
import { sentryMakesSpans } from '../../../src/tracing/sentry-spans.js';
import { besideOtherSdk } from '../../../src/tracing/start.js';
import { captureLogs } from '../../support/log-capture.js';

/** Sentry's provider as the kit sees it: a class of that name, registered globally. */
class SentryTracerProvider implements TracerProvider {
  getTracer(): Tracer {
    return trace.getTracer('none');
  }
}

afterEach(() => trace.disable());

const otelEnvironment = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

async function decide(makesSpans: boolean | undefined) {
  const { config } = loadConfig({ env: otelEnvironment });
  const capture = captureLogs();
  const logger = pino({ level: 'info' }, capture);
  const plan = await besideOtherSdk(config.tracing, resolveTracingMode(config.tracing), logger, () =>
    Promise.resolve(makesSpans),
  );
  return { plan, lines: capture.lines };
}

describe('tracing auto beside Sentry', () => {
  it("traces with the kit when Sentry's provider makes no spans (Sentry for errors alone)", async () => {
    trace.setGlobalTracerProvider(new SentryTracerProvider());
    const { plan, lines } = await decide(false);
    expect(plan.backend).toBe('otel');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        tracing: expect.objectContaining({
          otherTracerProvider: 'SentryTracerProvider',
          otherMakesSpans: false,
        }),
      }),
    ]);
  });

  it('leaves tracing to Sentry when it makes spans, or when that cannot be known', async () => {
    for (const makesSpans of [true, undefined]) {
      trace.setGlobalTracerProvider(new SentryTracerProvider());
      const { plan } = await decide(makesSpans);
      expect(plan.backend).toBe('off');
      trace.disable();
    }
  });
});

describe('sentryMakesSpans', () => {
  it("asks @sentry/core's hasSpansEnabled, else hasTracingEnabled (Sentry 8)", async () => {
    expect(await sentryMakesSpans(() => Promise.resolve({ hasSpansEnabled: () => false }))).toBe(false);
    expect(await sentryMakesSpans(() => Promise.resolve({ hasTracingEnabled: () => true }))).toBe(true);
  });

  it('says it cannot know when the package is not found or answers oddly', async () => {
    expect(await sentryMakesSpans(() => Promise.reject(new Error('Cannot find package')))).toBeUndefined();
    expect(await sentryMakesSpans(() => Promise.resolve({}))).toBeUndefined();
    expect(
      await sentryMakesSpans(() =>
        Promise.resolve({
          hasSpansEnabled: () => {
            throw new Error('no client');
          },
        }),
      ),
    ).toBeUndefined();
    // Not installed beside the kit's sources: the default loader finds no @sentry/core.
    expect(await sentryMakesSpans()).toBeUndefined();
  });
});
