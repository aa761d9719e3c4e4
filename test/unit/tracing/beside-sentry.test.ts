// Tracing auto beside Sentry's OpenTelemetry globals: left to Sentry when it makes spans, the kit's when not.
import { context, propagation, type TextMapPropagator, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { resolveTracingMode } from '../../../src/tracing/mode.js';
import { sentryMakesSpans } from '../../../src/tracing/sentry-spans.js';
import { besideOtherSdk } from '../../../src/tracing/start.js';
import { captureLogs } from '../../support/log-capture.js';

/** What Sentry 8 to 10.63 register (and 10.64 on with `openTelemetryBasicTracerProvider`): a plain provider, with Sentry's context manager and propagator. */
class SentryAsyncLocalStorageContextManager extends AsyncLocalStorageContextManager {}
class SentryPropagator extends W3CTraceContextPropagator {}
/** Sentry 10.64 on, by default. */
class SentryTracerProvider extends BasicTracerProvider {}

afterEach(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

const otelEnvironment = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

function decide(makesSpans: boolean | undefined) {
  const { config } = loadConfig({ env: otelEnvironment });
  const logs = captureLogs();
  const plan = besideOtherSdk(
    config.tracing,
    resolveTracingMode(config.tracing),
    pino({ level: 'info' }, logs),
    () => makesSpans,
  );
  return { plan, lines: logs.lines };
}

function registerSentry10(
  provider: BasicTracerProvider,
  propagator: TextMapPropagator = new SentryPropagator(),
) {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new SentryAsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(propagator);
}

describe('tracing auto beside Sentry', () => {
  it.each([
    ['SentryTracerProvider (10.64 on)', () => new SentryTracerProvider()],
    [
      'a BasicTracerProvider with Sentry context manager and propagator (8 to 10.63)',
      () => new BasicTracerProvider(),
    ],
  ])('traces with the kit when Sentry makes no spans (errors alone): %s', (_shape, provider) => {
    registerSentry10(provider());
    const { plan, lines } = decide(false);
    expect(plan.backend).toBe('otel');
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, tracing: expect.objectContaining({ otherMakesSpans: false }) }),
    ]);
  });

  it('leaves tracing to Sentry when it makes spans, or when no Sentry client is found', () => {
    for (const makesSpans of [true, undefined]) {
      registerSentry10(new BasicTracerProvider());
      expect(decide(makesSpans).plan.backend).toBe('off');
      trace.disable();
      context.disable();
      propagation.disable();
    }
  });

  it("leaves tracing to another SDK's provider (an agent's) even when Sentry for errors alone is in the process too", () => {
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    expect(decide(false).plan.backend).toBe('off');
  });
});

/** Sentry's global carrier as `Sentry.init()` leaves it: its client bound to the default scopes, by version. */
function carrier(options: Record<string, unknown> | undefined, version = '10.78.0') {
  const client = options === undefined ? undefined : { getOptions: () => options };
  return {
    version,
    [version]: { defaultCurrentScope: { getClient: () => client }, defaultIsolationScope: {} },
  };
}

describe('sentryMakesSpans', () => {
  it("reads the client Sentry.init() bound, as Sentry's hasSpansEnabled() does", () => {
    expect(sentryMakesSpans(carrier({ dsn: 'x' }))).toBe(false);
    expect(sentryMakesSpans(carrier({ tracesSampleRate: 0 }))).toBe(true);
    expect(sentryMakesSpans(carrier({ tracesSampler: () => 1 }))).toBe(true);
    expect(sentryMakesSpans(carrier({ enableTracing: true }))).toBe(true); // Sentry 8
  });

  it('cannot say without Sentry, or without a client', () => {
    expect(sentryMakesSpans(undefined)).toBeUndefined();
    expect(sentryMakesSpans(carrier(undefined))).toBeUndefined();
    expect(sentryMakesSpans({ version: '10.78.0' })).toBeUndefined();
    expect(
      sentryMakesSpans({
        version: '1',
        1: {
          defaultCurrentScope: {
            getClient: () => {
              throw new Error('odd');
            },
          },
        },
      }),
    ).toBeUndefined();
    // The kit's own tests run without Sentry.
    expect(sentryMakesSpans()).toBeUndefined();
  });
});
