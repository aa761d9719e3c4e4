/** What the kit reads of a Sentry client: its options. */
interface SentryClientLike {
  getOptions?: () => unknown;
}

/** What the kit reads of a Sentry scope: its client. */
interface SentryScopeLike {
  getClient?: () => unknown;
}

/**
 * Whether Sentry's client in this process makes spans, as Sentry's own `hasSpansEnabled()` decides
 * (`tracesSampleRate` set, or a `tracesSampler`; `enableTracing` in Sentry 8). Sentry 8 to 10
 * register OpenTelemetry's tracer provider even when used for errors alone, and its spans then never
 * record. Read from Sentry's global carrier (`globalThis.__SENTRY__`, by version: the client
 * `Sentry.init()` bound to the default scopes), not from an `@sentry/core` the kit would import,
 * which may be another copy (another version, which sees no client) or not found from the kit (pnpm,
 * a bundle). `undefined` when no Sentry client is found there.
 */
export function sentryMakesSpans(
  carrier: unknown = (globalThis as { __SENTRY__?: unknown }).__SENTRY__,
): boolean | undefined {
  if (typeof carrier !== 'object' || carrier === null) return undefined;
  const { version } = carrier as { version?: unknown };
  const ofVersion = typeof version === 'string' ? (carrier as Record<string, unknown>)[version] : undefined;
  if (typeof ofVersion !== 'object' || ofVersion === null) return undefined;
  const { defaultCurrentScope, defaultIsolationScope } = ofVersion as Record<string, unknown>;
  let options: unknown;
  try {
    for (const scope of [defaultCurrentScope, defaultIsolationScope]) {
      const client = (scope as SentryScopeLike | undefined)?.getClient?.() as SentryClientLike | undefined;
      options = client?.getOptions?.();
      if (options !== undefined) break;
    }
  } catch {
    return undefined;
  }
  if (typeof options !== 'object' || options === null) return undefined;
  const { tracesSampleRate, tracesSampler, enableTracing } = options as Record<string, unknown>;
  return tracesSampleRate != null || typeof tracesSampler === 'function' || enableTracing === true;
}
