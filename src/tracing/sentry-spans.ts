/** What the kit reads of `@sentry/core`: whether the Sentry client makes spans. */
interface SentryCore {
  /** Sentry 9 and later. */
  readonly hasSpansEnabled?: unknown;
  /** Sentry 8. */
  readonly hasTracingEnabled?: unknown;
}

/** The package asked, by a name TypeScript and the bundler leave to the run time. */
const sentryCore = '@sentry/core';

/**
 * Whether Sentry, whose tracer provider (`SentryTracerProvider`) is OpenTelemetry's global one, makes
 * spans: Sentry 8 to 10 register it even when used for errors alone (no `tracesSampleRate` nor
 * `tracesSampler`), and its spans then never record. Asks `@sentry/core`'s own `hasSpansEnabled()`
 * (`hasTracingEnabled()` before Sentry 9); `undefined` when that cannot be known (the package not
 * found from the kit, or either function missing).
 */
export async function sentryMakesSpans(
  load: () => Promise<SentryCore> = () => import(sentryCore) as Promise<SentryCore>,
): Promise<boolean | undefined> {
  let core: SentryCore;
  try {
    core = await load();
  } catch {
    return undefined;
  }
  const check = core.hasSpansEnabled ?? core.hasTracingEnabled;
  if (typeof check !== 'function') return undefined;
  try {
    const enabled: unknown = check();
    return typeof enabled === 'boolean' ? enabled : undefined;
  } catch {
    return undefined;
  }
}
